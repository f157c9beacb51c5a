"""``live-snn gui``: defaults, the screenshot mode and the headless fallback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from live_snn.cli import gui as gui_command
from live_snn.cli import main as cli_main
from live_snn.errors import CheckpointError
from live_snn_ui.screenshot_check import check_screenshot


@pytest.fixture(scope="module")
def recording(gesture_sample: Path) -> Path:
    return gesture_sample


def test_screenshot_of_a_real_recording_is_not_blank(recording, gui_checkpoint, tmp_path):
    shot = tmp_path / "gui.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "live_snn", "gui", str(recording), "--model", str(gui_checkpoint),
         "--screenshot", str(shot), "--quit-after", "2"],
        env=env, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr
    report = check_screenshot(shot)
    assert report.ok, report.problems
    assert (report.width, report.height) == (1600, 960)


def test_blank_image_fails_the_check(tmp_path):
    import cv2
    import numpy as np

    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((960, 1600, 3), 24, np.uint8))
    report = check_screenshot(blank)
    assert not report.ok and any("distinct colours" in p for p in report.problems)
    assert not check_screenshot(tmp_path / "missing.png").ok


def test_without_display_it_runs_headless_and_says_so(recording, gui_checkpoint, monkeypatch,
                                                      capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    code = cli_main(["gui", str(recording), "--model", str(gui_checkpoint), "--speed", "max"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "no display" in err and "running headless" in err
    assert recording.name in err                         # the run's own session line


def test_defaults_fall_back_to_the_newest_shared_recording(monkeypatch, tmp_path):
    monkeypatch.setattr(gui_command, "BUNDLED_RECORDINGS", tmp_path / "no-recordings")
    shared = tmp_path / "shared"
    (shared / "recordings").mkdir(parents=True)
    older, newer = shared / "recordings" / "a.aedat4", shared / "recordings" / "b.aedat4"
    older.write_bytes(b"x")
    newer.write_bytes(b"x")
    os.utime(older, (1_000, 1_000))
    monkeypatch.setenv("LIVE_SNN_SHARED_DATA", str(shared))
    source, _model, notes = gui_command.resolve_defaults(None, None)
    assert source == str(newer)
    assert any("newest" in note for note in notes)


def test_bundled_demo_recording_comes_first(monkeypatch, tmp_path):
    bundled = tmp_path / "recordings"
    bundled.mkdir()
    for name in ("arms.aedat4", "demo_wave.aedat4"):
        (bundled / name).write_bytes(b"x")
    monkeypatch.setattr(gui_command, "BUNDLED_RECORDINGS", bundled)
    source, _model, notes = gui_command.resolve_defaults(None, None)
    assert Path(source).name == "demo_wave.aedat4"
    assert not any("newest" in note for note in notes)


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        gui_command.resolve_defaults("x.aedat4", str(tmp_path / "nope.safetensors"))


def test_screenshot_mode_exits_non_zero_after_an_error(gui_checkpoint, tmp_path):
    """A scripted window (--screenshot / --quit-after) that failed must say so in its exit
    code, not only on screen."""
    bad = tmp_path / "bad.aedat4"
    bad.write_bytes(b"#!AER-DAT4.0\r\n" + b"\xff" * 64)
    shot = tmp_path / "gui.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "live_snn", "gui", str(bad), "--model", str(gui_checkpoint),
         "--screenshot", str(shot), "--quit-after", "0.5"],
        env=env, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 1, result.stderr
    assert "live-snn gui: error:" in result.stderr and "bad.aedat4" in result.stderr
    assert shot.is_file()  # the screenshot shows the error
