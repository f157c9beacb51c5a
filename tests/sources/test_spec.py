from __future__ import annotations

import pytest

from live_snn.errors import SourceError
from live_snn.sources import PacedSource, open_source
from live_snn.sources.aedat4 import Aedat4Source


def test_aedat4_with_speed_and_start(recordings_dir):
    path = recordings_dir / "dvsgesture_sample_01.aedat4"
    with open_source(str(path)) as plain:
        assert isinstance(plain, Aedat4Source)
        start = plain.start_us
    with open_source(str(path), speed=2.0, start_us=start + 500_000) as paced:
        assert isinstance(paced, PacedSource) and paced.speed == 2.0
        assert next(iter(paced)).t_first >= start + 500_000
        assert "at 2x" in paced.description
        assert paced.camera_name == "DVS128"  # forwarded from the wrapped file source


def test_unknown_spec_lists_accepted_forms(tmp_path):
    with pytest.raises(
        SourceError,
        match=r"cannot open 'webcam': not a file or source; expected .*camera:SERIAL.*tcp://HOST:PORT.*sim:",
    ):
        open_source("webcam")
    text = tmp_path / "notes.txt"
    text.write_text("hi")
    with pytest.raises(SourceError, match=r"notes\.txt: unknown format \(2 bytes, starting b'hi'\)"):
        open_source(str(text))
    with pytest.raises(SourceError, match="no such file"):
        open_source(str(tmp_path / "gone.aedat4"))
    with pytest.raises(SourceError, match=f"cannot open '{tmp_path}': it is a folder"):
        open_source(str(tmp_path))


def test_speed_checks(recordings_dir, tcp_port):
    with pytest.raises(SourceError, match="out of range"):
        open_source(str(recordings_dir / "dvsgesture_sample_01.aedat4"), speed=20)
    with pytest.raises(SourceError, match="nothing is listening"):
        open_source(f"tcp://127.0.0.1:{tcp_port}", speed=2)


def test_sim_spec_goes_to_the_simulator():
    sim = pytest.importorskip("live_snn.sources.sim")
    source = open_source("sim:seed=3")
    try:
        assert isinstance(source, sim.SimulatorSource) and source.is_live
    finally:
        source.close()
    with pytest.raises(SourceError, match="live source"):
        open_source("sim:", speed=2.0)
