"""A 1280x720 Prophesee RAW (IMX636 geometry) through ``run`` and ``gui --screenshot``: the
header's geometry goes through the crop / downscale to the model's input (issue #16)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from live_snn.cli import main
from live_snn.events import EventBatch
from live_snn.sources.spec import open_recording
from live_snn_ui.screenshot_check import check_screenshot

HERE = Path(__file__).resolve().parents[1] / "sources"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
from event_file_writers import write_with_faery  # noqa: E402


@pytest.fixture(scope="module")
def hd_raw(recordings_dir, tmp_path_factory) -> Path:
    """The real DAVIS346 recording spread over a 1280x720 sensor (x*3 + 100, y*2 + 100), as
    an EVT 3.0 RAW file written by faery (a few hundred kB)."""
    with open_recording(str(recordings_dir / "davis346_mixed_streams.aedat4")) as source:
        events = EventBatch.concatenate(list(source))
    # from 0 us: the recording's wall-clock timestamps do not fit EVT 3.0 (nor a small file)
    hd = EventBatch.from_arrays(events.t - events.t[0], events.x.astype(np.int32) * 3 + 100,
                                events.y.astype(np.int32) * 2 + 100, events.p, (1280, 720))
    path = write_with_faery(tmp_path_factory.mktemp("hd") / "imx636_like.raw", hd)
    assert path.stat().st_size < 2_000_000
    return path


def test_run_maps_a_1280x720_raw_to_the_model(hd_raw, gui_checkpoint, tmp_path, capsys):
    summary = tmp_path / "summary.json"
    code = main(["run", str(hd_raw), "--model", str(gui_checkpoint), "--device", "cpu",
                 "--speed", "max", "--quiet", "--allow-remap", "--summary-json", str(summary)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "1280x720 sensor" in err and "32x32 model" in err
    stats = json.loads(summary.read_text())
    assert stats["events_in"] == 78830 and stats["bins"] > 100


def test_gui_screenshot_of_a_1280x720_raw(hd_raw, gui_checkpoint, tmp_path):
    shot = tmp_path / "hd.png"
    result = subprocess.run(
        [sys.executable, "-m", "live_snn", "gui", str(hd_raw), "--model", str(gui_checkpoint),
         "--allow-remap", "--screenshot", str(shot), "--quit-after", "2"],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, capture_output=True, text=True,
        timeout=180)
    assert result.returncode == 0, result.stderr
    report = check_screenshot(shot)
    assert report.ok, report.problems
