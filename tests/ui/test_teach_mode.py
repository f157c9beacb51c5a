"""Record and Teach in the window, with the simulator as the source (offscreen, real engine,
a tiny random model; the fine-tune test uses the bundled model as its base)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from live_snn.engine.config import EngineConfig
from live_snn.labels import read_labels_csv
from live_snn.sinks.jsonl import read_predictions
from live_snn.sinks.teach_folder import LABELS_FILE, META_FILE, RECORDING_FILE
from live_snn.sources.aedat4 import Aedat4Source
from live_snn.teach.finetune_config import FineTuneConfig
from live_snn_ui.engine_bridge import EngineBridge
from live_snn_ui.window import MainWindow

TIMEOUT_MS = 120_000
DT_US = 20_000


@pytest.fixture
def window(themed_app, qtbot):
    win = MainWindow(EngineBridge(EngineConfig(device="cpu", speed=1.0)))
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def open_sim(window: MainWindow, qtbot, checkpoint: Path | None, spec: str = "sim:seed=7") -> None:
    window.bridge.open_session(spec, None if checkpoint is None else str(checkpoint))
    qtbot.waitUntil(lambda: window.session is not None, timeout=TIMEOUT_MS)


def all_events(path: Path) -> np.ndarray:
    with Aedat4Source(path) as source:
        return np.concatenate([b.events for b in source])


# ---- Record ----------------------------------------------------------------------------------
def test_record_writes_events_and_predictions_until_stopped(window, qtbot, gui_checkpoint,
                                                            tmp_path):
    open_sim(window, qtbot, gui_checkpoint)
    record = window.record_control
    out = tmp_path / "take.aedat4"
    record.start(str(out))
    assert record.is_recording and record.button.text() == "■ Stop"
    qtbot.waitUntil(lambda: record.recording.status().events > 5000, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: "events" in record.label.text(), timeout=TIMEOUT_MS)
    status = record.stop()
    assert not record.is_recording and record.button.text() == "● Record"
    events = all_events(out)
    assert len(events) == status.events and status.events > 5000
    assert np.all(np.diff(events["t"]) >= 0)
    header, bins = read_predictions(status.path.with_name("take.predictions.jsonl"))
    assert header["recording"] == "take.aedat4" and len(bins) == status.bins > 0
    assert bins[-1]["t_start_us"] <= int(events["t"][-1])
    assert "recorded" in window.banner.text()


def test_record_closes_cleanly_when_the_source_changes(window, qtbot, gui_checkpoint, tmp_path):
    open_sim(window, qtbot, gui_checkpoint)
    out = tmp_path / "cut.aedat4"
    window.record_control.start(str(out))
    qtbot.waitUntil(lambda: window.record_control.recording.status().events > 0,
                    timeout=TIMEOUT_MS)
    stopped = []
    window.record_control.recordingStopped.connect(stopped.append)
    window.bridge.open_source("sim:seed=8")
    qtbot.waitUntil(lambda: bool(stopped), timeout=TIMEOUT_MS)
    assert "changed" in stopped[0].reason
    assert len(all_events(out)) == stopped[0].events > 0


def test_record_without_a_source_says_so(window, tmp_path):
    window.record_control.start(str(tmp_path / "x.aedat4"))
    assert not window.record_control.is_recording
    assert window.banner.kind == "error" and "open a source" in window.banner.text()
    assert not (tmp_path / "x.aedat4").exists()


# ---- Teach -----------------------------------------------------------------------------------
def fill_setup(window: MainWindow, folder: Path, *, takes: int = 2) -> None:
    setup = window.teach_panel.setup
    setup.set_defaults_checked({"right hand wave"})
    setup.new_classes.setText("swipe=arm-roll")
    setup.takes.setValue(takes)
    setup.take_s.setValue(1.0)
    setup.rest_s.setValue(0.5)
    setup.countdown_s.setValue(1.0)
    setup.order.setCurrentText("fixed")
    setup.folder.setText(str(folder))


def test_teach_session_prompts_records_and_redoes(window, qtbot, gui_checkpoint, tmp_path):
    open_sim(window, qtbot, gui_checkpoint)
    window.teach_action.trigger()
    assert window.teach_dock.isVisible()
    folder = tmp_path / "session"
    fill_setup(window, folder)
    run = window.teach_panel.run
    seen: list[tuple[str, int | None]] = []  # (prompt shown, source time then)
    window.bridge.stepsArrived.connect(lambda _n: seen.append(
        (run.prompt.text(), window.teach_mode.recorder.status().now_us)
        if window.teach_mode.recorder is not None else None))
    window.teach_panel.setup.start_button.click()
    qtbot.waitUntil(lambda: window.teach_mode.recorder is not None, timeout=TIMEOUT_MS)
    assert window.teach_panel.part == "run"
    # The first take is prompted, counted down and taken; then redone.
    qtbot.waitUntil(run.redo_button.isEnabled, timeout=TIMEOUT_MS)  # after the first take
    assert window.teach_mode.recorder.status().takes_kept == 1
    run.redo_button.click()
    assert "comes again next" in window.teach_mode.recorder.status().message
    qtbot.waitUntil(lambda: run.stop_button.text() == "Save", timeout=TIMEOUT_MS)  # done
    assert run.discard_button.isEnabled()
    run.discard_button.click()   # the last take, thrown away for good
    run.stop_button.click()      # "Save" once done
    assert window.teach_panel.part == "train"

    shown = [p for p in seen if p]
    texts = [t for t, _ in shown]
    assert "Get ready: right hand wave — 1" in texts and "Go: right hand wave" in texts
    assert "Go: swipe" in texts and any(t.startswith("Rest") for t in texts)
    meta = json.loads((folder / META_FILE).read_text())
    assert meta["class_names"] == ["right hand wave", "swipe"]
    statuses = [t["status"] for t in meta["takes"]]
    assert statuses.count("redone") == 1 and statuses.count("discarded") == 1
    labels = read_labels_csv(folder / LABELS_FILE, ("right hand wave", "swipe"))
    kept = [t for t in meta["takes"] if t["status"] == "kept"]
    assert len(labels.segments) == len(kept) == 3     # 2 classes x 2 takes, 1 discarded
    events = all_events(folder / RECORDING_FILE)
    for segment in labels.segments:
        assert segment.end_us - segment.start_us == 1_000_000
        assert events["t"][0] <= segment.start_us and segment.end_us <= events["t"][-1] + 1
        # The window showed "Go" for this take within one bin of its labelled start (the
        # first redraw after the source's clock passed it).
        name = ("right hand wave", "swipe")[segment.label]
        go_seen = [now for text, now in shown if text == f"Go: {name}"
                   and now is not None and segment.start_us <= now < segment.end_us]
        assert go_seen and min(go_seen) - segment.start_us <= 3 * DT_US + 40_000


def test_teach_lost_source_discards_the_take_under_way(window, qtbot, gui_checkpoint,
                                                       tmp_path):
    open_sim(window, qtbot, gui_checkpoint)
    fill_setup(window, tmp_path / "lost", takes=3)
    window.teach_panel.setup.start_button.click()
    qtbot.waitUntil(lambda: window.teach_mode.recorder is not None
                    and window.teach_mode.recorder.status().takes_kept == 1
                    and window.teach_mode.recorder.status().phase == "take",
                    timeout=TIMEOUT_MS)
    window.bridge.engine.stop()   # the source goes away mid-take
    qtbot.waitUntil(lambda: window.teach_panel.part == "train", timeout=TIMEOUT_MS)
    meta = json.loads((tmp_path / "lost" / META_FILE).read_text())
    assert [t["status"] for t in meta["takes"]] == ["kept", "lost"]
    assert "discarded" in window.teach_panel.train.summary.text()
    assert len(read_labels_csv(tmp_path / "lost" / LABELS_FILE,
                               ("right hand wave", "swipe")).segments) == 1


def test_teach_refuses_a_folder_that_holds_a_session(window, qtbot, gui_checkpoint, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / LABELS_FILE).write_text("class,startTime_usec,endTime_usec\n")
    open_sim(window, qtbot, gui_checkpoint)
    fill_setup(window, tmp_path / "used")
    window.teach_panel.setup.start_button.click()
    qtbot.waitUntil(lambda: "already holds" in window.teach_panel.setup.error.text(),
                    timeout=TIMEOUT_MS)
    assert (tmp_path / "used" / LABELS_FILE).read_text().startswith("class,")


def test_train_in_the_background_then_load(window, qtbot, tmp_path, taught_folder):
    from live_snn.engine.session import default_model_path

    open_sim(window, qtbot, default_model_path())
    mode = window.teach_mode
    mode.finetune = FineTuneConfig(steps=4, eval_every=2, batch_size=4)
    mode.folder = taught_folder
    window.teach_panel.show_part("train")
    train = window.teach_panel.train
    train.train_button.click()
    qtbot.waitUntil(lambda: train.load_button.isEnabled(), timeout=TIMEOUT_MS)
    assert "validation accuracy" in train.result.text() and train.progress.value() == 1000
    train.load_button.click()
    qtbot.waitUntil(lambda: window.session is not None and window.session.class_names ==
                    ("right hand wave", "swipe"), timeout=TIMEOUT_MS)


def test_train_refuses_a_base_of_another_binning(window, qtbot, gui_checkpoint, taught_folder):
    open_sim(window, qtbot, gui_checkpoint)   # a 32x32 model is the one in use
    window.teach_mode.folder = taught_folder
    window.teach_panel.show_part("train")
    window.teach_panel.train.train_button.click()
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=TIMEOUT_MS)
    assert "cannot teach from" in window.banner.text() and "32x32" in window.banner.text()
