"""The whole window on a real recording, with the real engine (offscreen)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from live_snn.engine.config import EngineConfig
from live_snn_ui.engine_bridge import EngineBridge
from live_snn_ui.event_view import render_events
from live_snn_ui.window import MainWindow

TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def recording(recordings_dir: Path) -> Path:
    path = recordings_dir / "dvsgesture_sample_01.aedat4"  # 1.45 s: ~73 bins of 20 ms
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture
def make_window(themed_app, qtbot):
    def make(**config) -> MainWindow:
        engine = EngineConfig(**{"device": "cpu", "speed": None, **config})
        window = MainWindow(EngineBridge(engine))
        qtbot.addWidget(window)
        window.resize(1400, 900)
        window.show()
        qtbot.waitExposed(window)
        return window

    return make


def open_session(window: MainWindow, qtbot, recording: Path, checkpoint: Path, *,
                 autoplay: bool = True) -> None:
    window.bridge.open_session(str(recording), str(checkpoint), autoplay=autoplay)
    qtbot.waitUntil(lambda: window.session is not None, timeout=TIMEOUT_MS)
    assert window.banner.kind != "error", window.banner.text()


def wait_until_finished(window: MainWindow, qtbot) -> None:
    last = window.session.num_bins - 1
    qtbot.waitUntil(lambda: window.bridge.state == "finished"
                    and window.bridge.history.latest_bin == last, timeout=TIMEOUT_MS)
    qtbot.wait(100)  # one more redraw after the last bin


def test_play_to_the_end(make_window, qtbot, recording, gui_checkpoint):
    window = make_window()
    open_session(window, qtbot, recording, gui_checkpoint)
    session = window.session
    wait_until_finished(window, qtbot)
    # The timeline redraws at 5 Hz while steps arrive, and catches up when they stop.
    qtbot.waitUntil(lambda: len(window.timeline.strip_labels()[1]) == session.num_bins,
                    timeout=2_000)
    first, labels = window.timeline.strip_labels()
    assert first == 0 and len(labels) == session.num_bins  # one entry per bin
    assert (labels >= 0).all()
    np.testing.assert_array_equal(labels, window.bridge.history.column("label"))
    layer = window.attention_panel.current_layer()
    assert layer == session.attention_layers[0]
    heatmap = window.attention_panel.heatmap_data()
    assert heatmap.shape == (session.window_steps, session.attention_channels[layer])
    assert np.isfinite(heatmap).all()
    assert window.event_view.image_rgb().shape == (128, 128, 3)
    assert f"bin {session.num_bins - 1}" in window.prediction_panel.caption()
    assert window.controls.time_label.text().startswith("1.4")
    assert window.redraws > 0 and window.banner.kind != "error"


def assert_panels_show(window: MainWindow, bin_index: int) -> None:
    record = window.bridge.history.step(bin_index)
    raw, smoothed = window.prediction_panel.bar_values()
    np.testing.assert_array_equal(raw, record.probs)
    np.testing.assert_array_equal(smoothed, record.smoothed)
    assert f"bin {bin_index} " in window.prediction_panel.caption() + " "
    np.testing.assert_array_equal(window.event_view.image_rgb(),
                                  render_events(record.sensor_frame))
    layer = window.attention_panel.current_layer()
    np.testing.assert_array_equal(window.attention_panel.heatmap_data()[-1],
                                  record.attention[layer]["gate"])


def test_single_step_advances_exactly_one_bin(make_window, qtbot, recording, gui_checkpoint):
    window = make_window()
    open_session(window, qtbot, recording, gui_checkpoint, autoplay=False)
    history = window.bridge.history
    qtbot.wait(300)
    assert len(history) == 0 and window.bridge.state == "paused"
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Right)            # the → shortcut
    qtbot.waitUntil(lambda: history.latest_bin == 0, timeout=TIMEOUT_MS)
    window.controls.step_action.trigger()               # the Step button
    qtbot.waitUntil(lambda: history.latest_bin == 1, timeout=TIMEOUT_MS)
    qtbot.wait(400)                                     # nothing more arrives on its own
    assert len(history) == 2 and history.latest_bin == 1
    qtbot.waitUntil(lambda: "bin 1" in window.prediction_panel.caption())
    assert_panels_show(window, 1)
    window.step_back()                                  # ← selects the previous step
    assert window.view.selected_bin == 0
    assert_panels_show(window, 0)
    assert window.timeline.selected_bin() == 0
    window.step_forward()                               # → walks the history first
    assert window.view.selected_bin == 1 and len(history) == 2
    qtbot.keyClick(window, Qt.Key.Key_R)                # R resets the network state
    qtbot.waitUntil(lambda: window.bridge.engine.stats().resets >= 1, timeout=TIMEOUT_MS)
    assert "reset" in window.status.currentMessage()


def test_space_plays_and_pauses_and_home_goes_back_to_the_start(
        make_window, qtbot, recording, gui_checkpoint):
    window = make_window()
    open_session(window, qtbot, recording, gui_checkpoint, autoplay=False)
    history, controls = window.bridge.history, window.controls
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Space)            # play
    assert window.bridge.state == "running"
    qtbot.waitUntil(lambda: (history.latest_bin or 0) >= 5, timeout=TIMEOUT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Space)            # pause
    assert window.bridge.state == "paused"
    qtbot.wait(300)
    stopped_at = history.latest_bin
    qtbot.wait(300)
    assert history.latest_bin == stopped_at and stopped_at >= 5
    assert controls.seek_slider.value() > 0
    qtbot.keyClick(window, Qt.Key.Key_Home)             # back to the start, still paused
    assert window.bridge.state == "paused"
    assert controls.seek_slider.value() == 0 and controls.time_label.text().startswith("0.000 s")
    qtbot.wait(300)                                     # the redraws keep the target time
    assert controls.time_label.text().startswith("0.000 s")
    qtbot.keyClick(window, Qt.Key.Key_Right)            # the next step is the first bin
    qtbot.waitUntil(lambda: history.latest_bin == 0, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.prediction_panel.caption().startswith("bin 0 "))
    assert controls.time_label.text().startswith("0.020 s")


def test_a_labelled_recording_shows_its_ground_truth_under_the_predictions(
        make_window, qtbot, recording, gui_checkpoint, tmp_path):
    import shutil

    copy = Path(shutil.copy(recording, tmp_path / "labelled.aedat4"))
    (tmp_path / "labelled_labels.csv").write_text(   # class 4 (index 3) from 0.2 s to 1.0 s
        "class,startTime_usec,endTime_usec\n4,1200000,2000000\n")
    window = make_window()
    open_session(window, qtbot, copy, gui_checkpoint)
    assert window.session.has_labels
    wait_until_finished(window, qtbot)
    history, session = window.bridge.history, window.session
    qtbot.waitUntil(lambda: window.timeline.truth_labels() is not None
                    and len(window.timeline.truth_labels()) == session.num_bins, timeout=2_000)
    truth = window.timeline.truth_labels()
    centres = (history.column("t_start") + history.column("t_end")) // 2
    np.testing.assert_array_equal(truth, np.where((centres >= 1_200_000) & (centres < 2_000_000),
                                                  3, -1))
    labelled = int(np.flatnonzero(truth == 3)[0])
    window.select_step(labelled)
    assert "truth" in window.prediction_panel.detail.text()
    assert session.class_names[3] in window.prediction_panel.detail.text()


def test_seek_then_play_gives_the_same_predictions(make_window, qtbot, recording, gui_checkpoint):
    window = make_window(snapshot_every=16)
    open_session(window, qtbot, recording, gui_checkpoint)
    wait_until_finished(window, qtbot)
    history = window.bridge.history
    reference = {name: history.column(name).copy() for name in ("probs", "smoothed", "label")}
    n = window.session.num_bins
    target = n // 2 + 3                                  # between two snapshots
    window.bridge.pause()
    history.clear()
    start, dt = window.session.start_us, window.session.dt_us
    window.seek(start + target * dt + dt // 3)
    window.toggle_play()
    qtbot.waitUntil(lambda: history.latest_bin == n - 1 and window.bridge.state == "finished",
                    timeout=TIMEOUT_MS)
    assert history.first_bin == target and len(history) == n - target
    for name, values in reference.items():
        np.testing.assert_allclose(history.column(name), values[target:], atol=1e-6,
                                   err_msg=f"{name} after the seek")


def test_corrupt_file_shows_an_error_and_the_window_keeps_working(
        make_window, qtbot, recording, gui_checkpoint, tmp_path):
    window = make_window()
    open_session(window, qtbot, recording, gui_checkpoint, autoplay=False)
    window.step_forward()
    qtbot.waitUntil(lambda: window.bridge.history.latest_bin == 0, timeout=TIMEOUT_MS)
    session = window.session

    broken = tmp_path / "broken.aedat4"
    broken.write_bytes(b"this is not an AEDAT4 recording\n" * 64)
    window.open_source(str(broken))
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=TIMEOUT_MS)
    assert "broken.aedat4" in window.banner.text()
    assert window.session is session                     # the open session is untouched
    window.step_forward()
    qtbot.waitUntil(lambda: window.bridge.history.latest_bin == 1, timeout=TIMEOUT_MS)

    truncated = tmp_path / "truncated.aedat4"
    data = recording.read_bytes()
    truncated.write_bytes(data[: len(data) * 2 // 3])
    window.banner.dismiss()
    window.open_source(str(truncated))
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=TIMEOUT_MS)
    assert "truncated.aedat4" in window.banner.text()
    if window.session is not session:                   # the damage was found mid-stream:
        assert len(window.bridge.history) > 0           # the bins before it were kept

    window.open_source(str(recording))                  # and a good file plays again
    qtbot.waitUntil(lambda: window.session is not None and window.session is not session
                    and recording.name in window.session.source_description
                    and window.bridge.history.latest_bin is not None, timeout=TIMEOUT_MS)


def test_switching_layers_and_branches_changes_the_heatmap(
        make_window, qtbot, recording, gui_checkpoint):
    window = make_window()
    open_session(window, qtbot, recording, gui_checkpoint)
    wait_until_finished(window, qtbot)
    panel, history, session = window.attention_panel, window.bridge.history, window.session
    focus, steps = history.latest_bin, session.window_steps
    first, second = session.attention_layers[:2]

    def expected(layer: str, part: str) -> np.ndarray:
        return history.attention_window(layer, focus, steps)[part]

    shown = {}
    for part in ("gate", "branch_a", "branch_b"):
        panel.set_part(part)
        shown[part] = panel.heatmap_data()
        np.testing.assert_array_equal(shown[part], expected(first, part))
    assert not np.array_equal(shown["gate"], shown["branch_a"])
    assert not np.array_equal(shown["branch_a"], shown["branch_b"])
    panel.set_part("gate")
    panel.set_current_layer(second)                     # redrawn on the next tick
    qtbot.waitUntil(lambda: np.array_equal(panel.heatmap_data(), expected(second, "gate")),
                    timeout=5_000)
    assert not np.array_equal(panel.heatmap_data(), shown["gate"])


def test_speed_change_applies_to_the_running_replay(make_window, qtbot, recording, gui_checkpoint):
    window = make_window(speed=0.1)
    open_session(window, qtbot, recording, gui_checkpoint)
    history = window.bridge.history
    qtbot.wait(1000)
    # Paced at 0.1x, one wall second covers 0.1 s of data: at most 5 bins of 20 ms (+1 open).
    assert (history.latest_bin or 0) <= 6
    window.controls.speed_box.setCurrentIndex(window.controls.speed_box.count() - 1)  # max
    wait_until_finished(window, qtbot)
    assert window.bridge.engine.config.speed is None
    assert len(history) == window.session.num_bins


def test_loading_a_model_restarts_the_session_and_a_bad_one_changes_nothing(
        make_window, qtbot, recording, gui_checkpoint, tmp_path):
    from live_snn.bench.active_model import write_active_random_checkpoint

    window = make_window()
    open_session(window, qtbot, recording, gui_checkpoint, autoplay=False)
    session = window.session
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 64)
    window.bridge.load_model(str(bad))
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=TIMEOUT_MS)
    assert "bad.safetensors" in window.banner.text()
    assert window.session is session
    other = write_active_random_checkpoint(tmp_path / "other.safetensors", seed=1,
                                           input_size=(32, 32), channels=8, hidden=32,
                                           num_blocks=3, T=6)
    window.bridge.load_model(str(other))
    qtbot.waitUntil(lambda: window.session is not session, timeout=TIMEOUT_MS)
    assert window.session.window_steps == 6
    assert set(window.session.attention_channels.values()) == {8}
    assert window.attention_panel.layer_box.count() == len(window.session.attention_layers)
    assert window.bridge.state == "paused"                # it was paused: it stays paused
    window.step_forward()
    qtbot.waitUntil(lambda: window.bridge.history.latest_bin == 0, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.attention_panel.heatmap_data().shape == (6, 8),
                    timeout=5_000)


def test_a_threshold_fitted_under_another_smoothing_is_said_in_the_banner(
        make_window, qtbot, recording, gui_checkpoint, with_readout):
    own = with_readout(gui_checkpoint, uncertain_below=0.5,
                       uncertain_calibration={"smoothing": "ema", "ema_tau_steps": 5.0})
    window = make_window(ema_tau_steps=10.0, speed=1.0)
    notice = "no bundled recording; opening the newest"  # as `live-snn gui` may start with
    window.banner.show_info(notice)
    open_session(window, qtbot, recording, own)
    assert window.banner.kind == "info"
    first, note = window.banner.text().split("\n")
    assert first == notice
    assert "fitted under EMA τ=5 steps" in note and "(EMA τ=10 steps)" in note
    # a model whose threshold was fitted under this smoothing: its note goes, the notice stays
    matching = with_readout(gui_checkpoint, uncertain_below=0.5,
                            uncertain_calibration={"smoothing": "ema", "ema_tau_steps": 10.0})
    window.session = None
    open_session(window, qtbot, recording, matching)
    assert window.banner.kind == "info" and window.banner.text() == notice
