from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from live_snn.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_info_prints_the_recording(recordings_dir, capsys):
    assert main(["info", str(recordings_dir / "dvxplorer_person.aedat4")]) == 0
    out = capsys.readouterr().out
    assert "sensor:      DVXplorer_DXB00010" in out
    assert "resolution:  320x240" in out
    assert "events:      111954" in out
    assert "streams:     events, imu, triggers" in out
    assert "peak rate:" in out and "busiest 10 ms window" in out


def test_info_json(recordings_dir, capsys):
    assert main(["info", "--json", str(recordings_dir / "dvs128_arms_b.aedat4")]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["events"] == 18342 and record["streams"]["triggers"] is True


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.aedat4", b"garbage that is not a recording", "not an AEDAT4 file"),
    ("bad.safetensors", b"junk", "not a safetensors file"),
])
def test_info_on_a_bad_recording_or_checkpoint_is_one_line(tmp_path, capsys, name, content,
                                                           message):
    bad = tmp_path / name
    bad.write_bytes(content)
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("live-snn info: error:") and message in err
    assert "\n" not in err


def test_info_into_a_pipe_whose_reader_has_gone_ends_quietly(recordings_dir):
    """``live-snn info REC | head -5``: the reader closes the pipe early; no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "live_snn", "info", str(recordings_dir / "dvs128_arms_b.aedat4")],
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60, cwd=REPO)
    finally:
        os.close(write_end)
    assert done.returncode == 1 and done.stderr == ""


def test_a_broken_pipe_that_is_not_stdout_is_not_hidden(monkeypatch, recordings_dir):
    import live_snn.cli.info

    def broken(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(live_snn.cli.info, "run", broken)
    with pytest.raises(BrokenPipeError):
        main(["info", str(recordings_dir / "dvs128_arms_b.aedat4")])


def test_info_describes_a_model_checkpoint(capsys):
    bundled = REPO / "live_snn" / "assets" / "default_lite.safetensors"
    assert main(["info", str(bundled)]) == 0
    out = capsys.readouterr().out
    assert "network:     lite: 64x64 input" in out and "classes:     11: hand clap" in out
    assert "uncertain:   below " in out and "from:" in out and "validation:" in out
    assert main(["info", "--json", str(bundled)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["class_names"][0] == "hand clap" and summary["lineage"]
