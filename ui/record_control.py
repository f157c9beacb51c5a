"""The Record control: ● Record asks where to write, then records what the window plays
(camera, network, simulator, or a replay from where it is) to AEDAT4 with the predictions
sidecar, showing the time recorded and the events written; ■ Stop, the source ending or
dropping, a seek back or a new source closes the file cleanly with everything so far.
The recording itself is :class:`live_snn.sinks.live_recording.LiveRecording`."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QToolButton, QWidget

from live_snn.errors import LiveSnnError
from live_snn.sinks.live_recording import LiveRecording, RecordingStatus

from .engine_bridge import EngineBridge, describe_error
from .live_label import LiveLabel

_ENDING_EVENTS = ("stream_dropped", "failed", "finished", "stopped")


def _ask_path(parent: QWidget) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "Record to", "recording.aedat4",
                                          "AEDAT4 recordings (*.aedat4)")
    if path and not path.lower().endswith(".aedat4"):
        path += ".aedat4"
    return path


class RecordControl(QWidget):
    recordingStopped = Signal(object)      # RecordingStatus of the file just closed

    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None, *,
                 ask_path: Callable[[QWidget], str] = _ask_path):
        super().__init__(parent)
        self.bridge = bridge
        self.recording: LiveRecording | None = None
        self._ask_path = ask_path
        self._engine = None
        self._unsubscribe: list[Callable[[], None]] = []
        self.button = QToolButton()
        self.button.setText("● Record")
        self.button.setToolTip("Record what is playing to AEDAT4, with the predictions beside it")
        self.button.clicked.connect(self.toggle)
        self.label = LiveLabel("")
        self.label.setMinimumWidth(150)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.label)
        bridge.stepsArrived.connect(self.refresh)
        bridge.engineEvent.connect(self._on_engine_event)
        bridge.sessionOpened.connect(self._on_session)

    @property
    def is_recording(self) -> bool:
        return self.recording is not None and not self.recording.stopped

    def toggle(self) -> None:
        if self.is_recording:
            self.stop()
        else:
            path = self._ask_path(self)
            if path:
                self.start(path)

    def start(self, path: str) -> None:
        engine, session = self.bridge.engine, self.bridge.session
        if engine is None or session is None:
            self.bridge.errorRaised.emit("Record: open a source and a model first")
            return
        try:  # the file dialog asked before overwriting
            self.recording = LiveRecording(path, session, force=True)
        except (LiveSnnError, OSError) as exc:
            self.bridge.errorRaised.emit(f"Record: {describe_error(exc)}")
            return
        self._engine = engine
        self._unsubscribe = [engine.subscribe_batches(self.recording.on_batch),
                             engine.subscribe(self.recording.on_prediction)]
        self.button.setText("■ Stop")
        self.refresh()

    def stop(self, reason: str = "stopped") -> RecordingStatus | None:
        if self.recording is None:
            return None
        status = self.recording.stop(reason)
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self.recording = None
        self.button.setText("● Record")
        self.label.setText(f"saved {status.span_s:.1f} s")
        message = (f"recorded {status.events:,} events ({status.span_s:.1f} s) to "
                   f"{status.path} with {status.bins} bins of predictions")
        if status.reason != "stopped":
            message += f" ({status.reason})"
        self.bridge.noticeRaised.emit(message)
        self.recordingStopped.emit(status)
        return status

    def refresh(self, *_args) -> None:
        if self.recording is None:
            return
        status = self.recording.status()
        if status.stopped:  # it stopped itself (a seek back)
            self.stop(status.reason)
            return
        self.label.setText(f"● {status.wall_s:.1f} s · {status.events:,} events")

    def _on_engine_event(self, event) -> None:
        if self.recording is not None and event.kind in _ENDING_EVENTS:
            self.stop(f"{event.kind.replace('_', ' ')}: {event.message}")

    def _on_session(self, _info) -> None:
        if self.recording is not None and self.bridge.engine is not self._engine:
            self.stop("the source or the model changed")
