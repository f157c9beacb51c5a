"""The main window: the panels in resizable splitters, the control bar, the message banner
and the status bar, redrawn from the bridge's history at the bridge's tick rate (~30 Hz),
whatever the event rate: the event view at every tick, the other parts of the window at
the periods of ``SLOW_PART_PERIOD_S`` while the stream runs (all of them at once otherwise).

Which step the panels show is the Qt-free :class:`~live_snn.view.state.ViewState`: the newest
one while following the stream, or the selected one (a click on the timeline, ← / → while
paused). A selected step shows its own frame, its gate window ending at it and its prediction
together; Play or a seek returns to following."""

from __future__ import annotations

import os
import time

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter, QVBoxLayout, QWidget

from live_snn.engine import SessionInfo
from live_snn.view.history import StepRecord
from live_snn.view.state import ViewState

from .activity_panel import ActivityPanel
from .attention_panel import AttentionPanel
from .controls import Controls
from .engine_bridge import EngineBridge
from .event_view import EventView
from .live_label import LiveLabel
from .message_banner import MessageBanner
from .prediction_panel import PredictionPanel
from .record_control import RecordControl
from .status_bar import StatusBar
from .teach_mode import TeachMode
from .teach_panel import TeachPanel
from .timeline import TimelineView

ACTIVITY_STEPS = 120            # steps shown in the network-activity heatmap
# While following a running stream, only the event view is redrawn at every tick; the other
# parts are redrawn at these periods, which leaves the CPU (and the GIL) to the engine. The
# per-step panels at 15 Hz still read as live; the ones that show many steps at once change
# little from one step to the next. A selected step, a paused stream or a new session
# redraws them all at once, and a part left behind catches up when the steps stop coming.
SLOW_PART_PERIOD_S = {
    "prediction": 0.06,   # every other 30 Hz tick (a little under 2 ticks: timer jitter)
    "attention": 0.06,
    "activity": 0.1,
    "rate": 0.1,
    "timeline": 0.2,
}
RATE_WINDOW_S = 10.0            # seconds of event rate under the event view
_MAX_TRAIL_FRAMES = 64          # frames folded into the trail per redraw at most


def _shown(widget: QWidget) -> bool:
    """Drawn at all: visible and not collapsed to nothing by a splitter."""
    return widget.isVisible() and widget.width() > 0 and widget.height() > 0


class MainWindow(QMainWindow):
    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self.session: SessionInfo | None = None
        self._uncertain_note = ""  # the note the banner shows for the current session, if any
        self.view = ViewState(bridge.history)   # which step the panels show
        self.redraws = 0
        self._drawn_bin: int | None = None       # newest bin folded into the event view
        self._last_drawn: dict[str, float] = {}  # slow part -> perf_counter() of its redraw
        self._stale: set[str] = set()            # slow parts behind the newest step
        self._dirty = False
        self.setWindowTitle("live_snn")

        self.controls = Controls(self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.controls)
        self.banner = MessageBanner()
        self.event_view = EventView()
        self.prediction_panel = PredictionPanel()
        self.attention_panel = AttentionPanel()
        self.timeline = TimelineView()
        self.activity_panel = ActivityPanel()
        self.status = StatusBar()
        self.setStatusBar(self.status)

        top = QSplitter(Qt.Orientation.Horizontal)
        for panel in (self.event_view, self.prediction_panel, self.attention_panel):
            top.addWidget(panel)
        top.setSizes([520, 420, 660])
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.timeline)
        bottom.addWidget(self.activity_panel)
        bottom.setSizes([1000, 600])
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(top)
        main.addWidget(bottom)
        main.setSizes([600, 300])
        for splitter in (top, bottom, main):
            splitter.setHandleWidth(6)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 0, 6, 4)
        layout.setSpacing(4)
        layout.addWidget(self.banner)
        layout.addWidget(main, 1)
        self.setCentralWidget(central)

        back = QAction("Step back", self)
        back.setShortcut(QKeySequence("Left"))
        back.triggered.connect(self.step_back)
        self.addAction(back)

        c, b = self.controls, self.bridge
        c.openSpecRequested.connect(self.open_source)
        c.cameraListRequested.connect(self._discover_cameras)
        c.loadModelRequested.connect(b.load_model)
        c.playPauseRequested.connect(self.toggle_play)
        c.stepRequested.connect(self.step_forward)
        c.resetRequested.connect(self.reset_state)
        c.speedChanged.connect(b.set_speed)
        c.seekRequested.connect(self.seek)
        b.sessionOpened.connect(self._on_session)
        b.sourceOpened.connect(self._on_source)
        b.stepsArrived.connect(self._on_steps)
        b.errorRaised.connect(self.banner.show_error)
        b.noticeRaised.connect(self.banner.show_info)
        b.statsUpdated.connect(
            lambda stats: self.status.show_stats(stats, events_total=self.bridge.events_seen))
        b.stateChanged.connect(self._on_state)
        b.busyChanged.connect(self._on_busy)
        b.camerasFound.connect(c.set_cameras)
        self.timeline.binClicked.connect(self.select_step)
        self._add_record_and_teach()
        self.attention_panel.layerChanged.connect(self._mark_dirty)
        self.event_view.decay_box.toggled.connect(self._mark_dirty)

    def _add_record_and_teach(self) -> None:
        """The Record control in the tool bar; Teach mode in a dock the tool bar toggles."""
        self.record_control = RecordControl(self.bridge)
        self.controls.addSeparator()
        self.controls.addWidget(self.record_control)
        self.teach_panel = TeachPanel()
        self.teach_dock = QDockWidget("Teach", self)
        self.teach_dock.setObjectName("teachDock")
        self.teach_dock.setWidget(self.teach_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.teach_dock)
        self.teach_dock.hide()
        self.teach_action = self.teach_dock.toggleViewAction()
        self.teach_action.setText("Teach…")
        self.teach_action.setToolTip("Teach it your own gestures: prompted takes, then train")
        self.controls.addAction(self.teach_action)
        self.teach_mode = TeachMode(self.bridge, self.teach_panel)

    # ------------------------------------------------------------------ user actions
    def open_source(self, spec: str) -> None:
        self.bridge.open_source(spec)

    def _discover_cameras(self) -> None:
        self.controls.set_cameras(None)
        self.bridge.discover_cameras()

    def toggle_play(self) -> None:
        self.view.follow_latest()
        self.bridge.toggle_play()
        self._mark_dirty()

    def step_forward(self) -> None:
        """→: through the history while a past step is selected, else one more bin."""
        target = self.view.next_step()
        if target is not None:
            self.select_step(target)
            return
        self.view.follow_latest()
        self.bridge.step_once()

    def step_back(self) -> None:
        target = self.view.previous_step()
        if target is not None:
            self.select_step(target)

    def select_step(self, bin_index: int) -> None:
        """Show one past step in every panel; playback pauses so it stays on screen."""
        if not self.bridge.history.has(bin_index):
            return
        if self.bridge.state == "running":
            self.bridge.pause()
        self.view.select(bin_index)
        self.refresh()

    def follow_latest(self) -> None:
        self.view.follow_latest()
        self._mark_dirty()

    def reset_state(self) -> None:
        """R: zero the network's state (membranes, attention history, smoothing)."""
        if self.session is not None:
            self.bridge.reset()
            self.status.showMessage("network state reset: the next step starts from zero", 4000)

    def seek(self, t_us: int) -> None:
        self.view.follow_latest()
        self._drawn_bin = None
        if self.bridge.seek(t_us):
            # Paused, nothing arrives until Play or Step: the slider and time say where
            # the next step starts instead of the step before the seek.
            self.view.seek(t_us)
            self.controls.set_time(self.view.time_shown_us())

    # ------------------------------------------------------------------ bridge signals
    def _on_source(self, description: str) -> None:
        self.setWindowTitle(f"live_snn — {description}")

    def _on_session(self, session: SessionInfo) -> None:
        self.session = session
        self._last_drawn.clear()
        self._stale.clear()
        self.view.new_session()
        self._drawn_bin = None
        model = os.path.basename(session.model_path) if session.model_path else \
            session.model_sha256[:12]
        self.setWindowTitle(f"live_snn — {session.source_description} — {model}")
        self._show_uncertain_note(session.uncertain_note)
        mapping = session.mapping
        caption = f"{session.sensor} sensor → model {mapping.model}"
        if not mapping.is_full_sensor:
            caption += f" from the dashed {mapping.width}×{mapping.height} box"
        if mapping.factor > 1:
            caption += f" (÷{mapping.factor})"
        self.event_view.set_geometry(
            (session.sensor.width, session.sensor.height), mapping.crop, caption
        )
        self.event_view.setToolTip(mapping.describe())
        self.event_view.set_info(f"bins of {session.dt_us / 1000:g} ms")
        self.event_view.reset_rate()
        self.prediction_panel.set_classes(session.class_names,
                                          uncertain_below=session.uncertain_below)
        self.timeline.set_classes(session.class_names)
        self.timeline.set_span(session.dt_us, session.num_bins)
        self.timeline.set_data(0, np.zeros(0, dtype=np.int64))
        self.attention_panel.set_layers(session.attention_channels)
        self.activity_panel.set_layers(session.spiking_layers)
        self.controls.set_seekable(session.start_us, session.end_us)
        self.status.set_device(session.device, session.conv_dtype)
        self.status.reset_rates()

    def _show_uncertain_note(self, note: str) -> None:
        """The session's note on its threshold, in the banner beside any other notice
        (the start-up one); the previous session's note goes. An error stays in front."""
        if self.banner.kind == "error":
            self._uncertain_note = note
            return
        shown = self.banner.text() if self.banner.kind == "info" else ""
        if self._uncertain_note:
            shown = "\n".join(line for line in shown.split("\n") if line != self._uncertain_note)
        self._uncertain_note = note
        text = "\n".join(line for line in (shown, note) if line)
        if text:
            self.banner.show_info(text)
        elif self.banner.kind == "info":
            self.banner.dismiss()

    def _on_state(self, state: str) -> None:
        self.controls.set_running(state == "running")
        if state == "finished":
            self.status.showMessage("end of recording: Play starts again, Home goes back", 6000)

    def _on_busy(self, what: str) -> None:
        if what:
            self.status.showMessage(f"{what}…")
        else:
            self.status.clearMessage()

    def _on_steps(self, count: int) -> None:
        self.view.steps_arrived(count)
        if count or self._dirty:
            self.refresh()
        elif self._stale:
            self._refresh_slow()  # catch up on the last steps once they stop coming

    def _mark_dirty(self, *_args) -> None:
        self._dirty = True

    # ------------------------------------------------------------------ drawing
    def focus_bin(self) -> int | None:
        """The step the panels show: the selected one, else the newest."""
        return self.view.focus_bin()

    def _due(self, part: str) -> bool:
        """Redraw a slow part now? Always for a selected step or a stream that is not
        running, else at the part's period."""
        now = time.perf_counter()
        if self.view.following and self.bridge.state == "running" and \
                now - self._last_drawn.get(part, -1e9) < SLOW_PART_PERIOD_S[part]:
            self._stale.add(part)
            return False
        self._last_drawn[part] = now
        self._stale.discard(part)
        return True

    def _refresh_slow(self) -> None:
        focus = self.focus_bin()
        record = self.bridge.history.step(focus) if focus is not None else None
        if self.session is None or record is None:
            return
        self._draw_parts(record)
        self._draw_rate(focus)

    def redraw_all(self) -> None:
        """Every part and every text up to date at once (a screenshot)."""
        self._last_drawn.clear()
        self.refresh()
        for label in self.findChildren(LiveLabel):
            label.flush()

    def refresh(self) -> None:
        self._dirty = False
        history, session = self.bridge.history, self.session
        focus = self.focus_bin()
        if session is None or focus is None:
            return
        record = history.step(focus)
        if record is None:
            return
        self.redraws += 1
        if _shown(self.event_view):
            self._draw_events(record)
        self._draw_parts(record)
        self.controls.set_time(self.view.time_shown_us())

    def _draw_parts(self, record: StepRecord) -> None:
        """Everything but the event image, each part when it is due."""
        self._draw_prediction(record)
        self._draw_timeline()
        self._draw_attention(record.bin)
        self._draw_activity(record.bin)

    def _draw_prediction(self, record: StepRecord) -> None:
        if not (_shown(self.prediction_panel) and self._due("prediction")):
            return
        self.prediction_panel.show_step(
            record.probs, record.smoothed, record.label, record.confidence,
            record.uncertain, ground_truth=record.ground_truth,
            caption=self._step_caption(record),
        )

    def _draw_attention(self, focus: int) -> None:
        layer = self.attention_panel.current_layer()
        if layer is None or not (_shown(self.attention_panel) and self._due("attention")):
            return
        steps = self.session.window_steps
        parts = self.bridge.history.attention_window(layer, focus, steps)
        bins = np.arange(focus - steps + 1, focus + 1)
        self.attention_panel.set_window(parts, bins, marked_bin=self.view.selected_bin)

    def _draw_timeline(self) -> None:
        history, session = self.bridge.history, self.session
        if not _shown(self.timeline) or not self._due("timeline"):
            return
        self.timeline.set_data(
            history.first_bin, history.column("label"),
            uncertain=history.column("uncertain"), confidence=history.column("confidence"),
            ground_truth=history.column("ground_truth") if session.has_labels else None,
        )
        self.timeline.set_cursor(history.latest_bin)
        self.timeline.set_selected(self.view.selected_bin)

    def _draw_activity(self, focus: int) -> None:
        if not (_shown(self.activity_panel) and self.session.spiking_layers
                and self._due("activity")):
            return
        bins, rates = self.bridge.history.series_window("spike_rates", focus, ACTIVITY_STEPS)
        self.activity_panel.set_window(rates, bins, marked_bin=self.view.selected_bin)

    def _step_caption(self, record: StepRecord) -> str:
        t0 = self.session.start_us or 0
        return f"bin {record.bin} · {(record.t_start_us - t0) / 1e6:.3f} s"

    def _draw_events(self, record: StepRecord) -> None:
        view, history, session = self.event_view, self.bridge.history, self.session
        sensor = record.sensor_frame is not None
        if not self.view.following or self.bridge.state != "running":
            # A selected or single-stepped bin is shown alone: exactly what the model saw.
            frame = record.sensor_frame if sensor else record.frame
            if frame is not None:
                view.show_frame(frame, sensor=sensor)
            self._drawn_bin = None
        else:
            newest = record.bin
            first = newest
            if view.decay_tau_ms() > 0 and self._drawn_bin is not None and self._drawn_bin < newest:
                first = max(self._drawn_bin + 1, newest - _MAX_TRAIL_FRAMES + 1)
            frames = history.frames_between(first, newest, sensor=sensor)
            if frames is not None and len(frames):
                view.push_frames(frames, session.dt_us, sensor=sensor)
            self._drawn_bin = newest
        view.set_info(f"bin {record.bin}: {record.events} events in {session.dt_us / 1000:g} ms")
        self._draw_rate(record.bin)

    def _draw_rate(self, focus: int) -> None:
        view, history, session = self.event_view, self.bridge.history, self.session
        if not (_shown(self.event_view) and view.rate_plot.isVisible() and self._due("rate")):
            return
        # The last RATE_WINDOW_S seconds up to this step, not reaching before the history.
        n = max(1, min(int(RATE_WINDOW_S * 1e6 / session.dt_us), focus - history.first_bin + 1))
        bins, events = history.series_window("events", focus, n)
        dt_s = session.dt_us / 1e6
        view.set_rate((bins - focus) * dt_s, events / dt_s, RATE_WINDOW_S)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.record_control.stop("the window closed")  # files closed with all so far
        self.teach_mode.finish()
        self.bridge.close()
        super().closeEvent(event)

