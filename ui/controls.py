"""The control bar: open a file / camera / network stream / simulator, load a model, play,
pause, single step, reset, speed, and a seek slider with the time. It only emits what the
user asked for; the window decides what that means for the engine."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSlider,
    QComboBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMenu,
    QSizePolicy,
    QSlider,
    QToolBar,
    QToolButton,
    QWidget,
)

from .live_label import LiveLabel

SPEEDS: tuple[tuple[str, float | None], ...] = (
    ("0.1×", 0.1), ("0.25×", 0.25), ("0.5×", 0.5), ("1×", 1.0), ("2×", 2.0), ("4×", 4.0),
    ("10×", 10.0), ("max", None),
)
DEFAULT_NETWORK_ADDRESS = "tcp://127.0.0.1:7777"


def format_seconds(t_s: float) -> str:
    minutes, seconds = divmod(max(t_s, 0.0), 60.0)
    return f"{int(minutes)}:{seconds:06.3f}" if minutes else f"{seconds:.3f} s"


class Controls(QToolBar):
    openSpecRequested = Signal(str)       # a path, "camera:SERIAL", "tcp://…", "sim:"
    cameraListRequested = Signal()        # the camera menu is about to show: discover
    loadModelRequested = Signal(str)
    playPauseRequested = Signal()
    stepRequested = Signal()
    resetRequested = Signal()
    speedChanged = Signal(object)         # float (× real time) or None (as fast as possible)
    seekRequested = Signal(int)           # µs, absolute source time

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Controls", parent)
        self.setMovable(False)
        self.setFloatable(False)
        self._start_us = 0
        self._end_us = 0
        self._dragging = False

        open_menu = QMenu(self)
        self.open_file_action = open_menu.addAction("Recording file…", self._ask_file)
        self.open_file_action.setShortcut(QKeySequence.StandardKey.Open)
        self.camera_menu = open_menu.addMenu("Camera")
        self.camera_menu.aboutToShow.connect(self.cameraListRequested)
        self.set_cameras([])
        open_menu.addAction("Network stream…", self._ask_network)
        open_menu.addAction("Simulator", lambda: self.openSpecRequested.emit("sim:"))
        open_button = QToolButton()
        open_button.setText("Open")
        open_button.setMenu(open_menu)
        open_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.addWidget(open_button)
        self.load_model_action = self.addAction("Load model…", self._ask_model)
        self.addSeparator()

        self.play_action = self._action("▶ Play", "Space", self.playPauseRequested,
                                        "Play / pause (Space)")
        self.step_action = self._action("Step ▸", "Right", self.stepRequested,
                                        "Advance exactly one bin (→)")
        self.home_action = self._action("⇤ Start", "Home", self._seek_home, "Back to the start (Home)")
        self.reset_action = self._action("Reset", "R", self.resetRequested,
                                         "Reset the network state (R)")
        self.addSeparator()

        self.addWidget(QLabel(" speed "))
        self.speed_box = QComboBox()
        for text, value in SPEEDS:
            self.speed_box.addItem(text, value)
        self.speed_box.setCurrentIndex(3)
        self.speed_box.currentIndexChanged.connect(
            lambda i: self.speedChanged.emit(self.speed_box.itemData(i))
        )
        self.speed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.addWidget(self.speed_box)
        self.addSeparator()

        self.seek_slider = QSlider(Qt.Orientation.Horizontal)
        self.seek_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.seek_slider.setMinimumWidth(240)
        self.seek_slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.seek_slider.sliderPressed.connect(self._drag_started)
        self.seek_slider.sliderReleased.connect(self._drag_finished)
        self.seek_slider.actionTriggered.connect(self._slider_action)
        self.addWidget(self.seek_slider)
        self.time_label = LiveLabel("—")
        self.time_label.setMinimumWidth(150)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.addWidget(self.time_label)
        self.set_seekable(None, None)
        self.set_running(False)

    def _action(self, text: str, key: str, signal, tip: str) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(tip)
        action.triggered.connect(signal)
        self.addAction(action)
        return action

    # -- asking the user -----------------------------------------------------------------
    def _ask_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a recording", "", "Event recordings (*.aedat4 *.aedat *.bin);;All files (*)"
        )
        if path:
            self.openSpecRequested.emit(path)

    def _ask_network(self) -> None:
        address, ok = QInputDialog.getText(
            self, "Network stream", "DV network address (tcp://host:port or a socket path):",
            text=DEFAULT_NETWORK_ADDRESS,
        )
        if ok and address.strip():
            self.openSpecRequested.emit(address.strip())

    def _ask_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load a model", "", "live_snn checkpoints (*.safetensors);;All files (*)"
        )
        if path:
            self.loadModelRequested.emit(path)

    def set_cameras(self, cameras: Sequence[tuple[str, str]] | None) -> None:
        """``(label, spec)`` per connected camera; None while discovery is running."""
        self.camera_menu.clear()
        if cameras is None:
            self.camera_menu.addAction("searching…").setEnabled(False)
            return
        if not cameras:
            self.camera_menu.addAction("no camera found").setEnabled(False)
        for label, spec in cameras:
            self.camera_menu.addAction(label, lambda s=spec: self.openSpecRequested.emit(s))

    # -- state shown ---------------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        self.play_action.setText("‖ Pause" if running else "▶ Play")

    def set_seekable(self, start_us: int | None, end_us: int | None) -> None:
        """The recording's time span, or None for a live source (no seeking)."""
        seekable = start_us is not None and end_us is not None and end_us > start_us
        self._start_us = int(start_us or 0)
        self._end_us = int(end_us or 0)
        self.seek_slider.setEnabled(seekable)
        self.home_action.setEnabled(seekable)
        with QSignalBlocker(self.seek_slider):
            self.seek_slider.setRange(0, (self._end_us - self._start_us) // 1000 if seekable else 0)
            self.seek_slider.setValue(0)
        self.set_time(None)

    def set_time(self, t_us: int | None) -> None:
        if t_us is None:
            self.time_label.setText("—" if not self.seek_slider.isEnabled() else
                                    f"0.000 s / {format_seconds(self.duration_s())}")
            return
        elapsed_s = (t_us - self._start_us) / 1e6
        if self.seek_slider.isEnabled():
            if not self._dragging:
                with QSignalBlocker(self.seek_slider):
                    self.seek_slider.setValue(int((t_us - self._start_us) // 1000))
            self.time_label.setText(
                f"{format_seconds(elapsed_s)} / {format_seconds(self.duration_s())}"
            )
        else:
            self.time_label.setText(format_seconds(elapsed_s))

    def duration_s(self) -> float:
        return (self._end_us - self._start_us) / 1e6

    # -- seeking -------------------------------------------------------------------------
    def _seek_home(self) -> None:
        if self.seek_slider.isEnabled():
            self.seekRequested.emit(self._start_us)

    def _drag_started(self) -> None:
        self._dragging = True

    def _drag_finished(self) -> None:
        self._dragging = False
        self._emit_seek()

    def _slider_action(self, action: int) -> None:
        if action != QAbstractSlider.SliderAction.SliderMove.value:
            QTimer.singleShot(0, self._emit_seek)  # the value changes after this signal

    def _emit_seek(self) -> None:
        self.seekRequested.emit(self._start_us + self.seek_slider.value() * 1000)
