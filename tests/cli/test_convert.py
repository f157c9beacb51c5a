"""``live-snn convert IN OUT`` (format from OUT's extension, through faery) and ``live-snn
info`` on what it writes (issue #16)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from live_snn.cli import main
from live_snn.events import EventBatch, events_checksum
from live_snn.sources.spec import open_recording


@pytest.fixture(scope="module")
def davis(recordings_dir):
    """A real 346x260 recording (not square: a y flip or a swapped side would show), with
    wall-clock timestamps (µs since 1970), and its events shifted to start at 0 us."""
    path = recordings_dir / "davis346_mixed_streams.aedat4"
    with open_recording(str(path)) as source:
        events = EventBatch.concatenate(list(source))
    shifted = events.events.copy()
    shifted["t"] -= shifted["t"][0]
    return path, EventBatch(shifted, events.resolution)


@pytest.mark.parametrize(("suffix", "fmt"), [
    (".raw", "Prophesee RAW (EVT 2.0)"), (".dat", "Prophesee DAT"),
    (".es", "Event Stream 2.0.0 (dvs)"), (".csv", "CSV"), (".aedat4", "AEDAT4"),
])
def test_convert_writes_every_format_and_info_reads_it(davis, tmp_path, capsys, suffix, fmt):
    path, events = davis
    out = tmp_path / f"copy{suffix}"
    assert main(["convert", str(path), str(out), "--from-zero"]) == 0
    assert f"verified: read back {len(events)} events" in capsys.readouterr().out
    with open_recording(str(out)) as source:
        back = np.concatenate([b.events for b in source])
    assert events_checksum(back) == events_checksum(events.events)
    assert main(["info", "--json", str(out)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert (record["format"], record["resolution"], record["events"]) == (
        fmt, [346, 260], len(events))
    assert (record["first_us"], record["last_us"]) == (events.t_first, events.t_last)
    assert record["mean_rate_eps"] == pytest.approx(
        len(events) / (events.t_last - events.t_first) * 1e6)


def test_wall_clock_timestamps_need_from_zero(davis, tmp_path, capsys):
    path, _ = davis
    assert main(["convert", str(path), str(tmp_path / "copy.dat")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and re.search(r"past the 1\.2 h that live_snn writes to Prophesee DAT "
                                         r"files \(wall-clock timestamps\?\): pass --from-zero",
                                         err), err
    assert not (tmp_path / "copy.dat").exists()


def test_evt3_output_is_refused_past_its_first_time_wrap_and_evt2_is_not(tmp_path, capsys):
    t = np.arange(0, 20_000_000, 500_000)  # 20 s: EVT 3.0's 24-bit time wraps at 16.8 s
    csv = tmp_path / "long.csv"
    csv.write_text("t,x@64,y@64,on\n" + "".join(f"{v},{i % 64},{i % 50},{i % 2}\n"
                                                 for i, v in enumerate(t)))
    assert main(["convert", str(csv), str(tmp_path / "long.raw"), "--evt", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert re.search(r"event 34 has timestamp 17000000 us: EVT 3\.0 files written by faery "
                     r"0\.7\.1 read back wrong past 16\.8 s .*: use --evt 2", err), err
    assert not (tmp_path / "long.raw").exists()
    assert main(["convert", str(csv), str(tmp_path / "long.raw")]) == 0  # EVT 2.0
    with open_recording(str(tmp_path / "long.raw")) as source:
        assert list(np.concatenate([b.events for b in source])["t"]) == list(t)


def test_convert_evt2_then_back_to_aedat4(davis, tmp_path):
    path, events = davis
    raw, back = tmp_path / "copy.raw", tmp_path / "back.aedat4"
    assert main(["convert", str(path), str(raw), "--evt", "2", "--from-zero"]) == 0
    assert main(["convert", str(raw), str(back)]) == 0
    with open_recording(str(back)) as source:
        assert events_checksum(np.concatenate([b.events for b in source])) == \
            events_checksum(events.events)


def test_convert_refuses_an_unknown_extension_and_an_existing_out(davis, tmp_path, capsys):
    path, _ = davis
    assert main(["convert", str(path), str(tmp_path / "copy.txt")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "cannot tell the format of" in err and ".raw (Prophesee RAW)" in err
    existing = tmp_path / "there.es"
    existing.write_bytes(b"keep me")
    assert main(["convert", str(path), str(existing)]) == 2
    assert "refusing to replace it" in capsys.readouterr().err
    assert existing.read_bytes() == b"keep me"
    assert not (tmp_path / "copy.txt").exists()


def test_convert_of_a_damaged_file_keeps_the_good_events_and_says_why(davis, tmp_path, capsys):
    path, events = davis
    raw = tmp_path / "copy.dat"
    assert main(["convert", str(path), str(raw), "--from-zero"]) == 0
    cut = tmp_path / "cut.dat"
    cut.write_bytes(raw.read_bytes()[:-3])
    out = tmp_path / "rescued.aedat4"
    assert main(["convert", str(cut), str(out)]) == 1
    said = capsys.readouterr().out
    assert f"wrote {len(events) - 1} events" in said and "truncated at byte" in said
    with open_recording(str(out)) as source:
        assert sum(len(b) for b in source) == len(events) - 1
