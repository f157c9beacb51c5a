"""The frame every panel sits in: a title line (with room for the panel's own switches on the
right) above the panel's body, so the window reads as a set of labelled boxes."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

LIVE_TEXT_PERIOD_S = 0.1  # a per-step text is shown at most 10 times a second


class Panel(QFrame):
    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("panel")
        self._title = QLabel(title.upper())
        self._title.setObjectName("panelTitle")
        self._header = QHBoxLayout()
        self._header.setContentsMargins(0, 0, 0, 0)
        self._header.setSpacing(8)
        self._header.addWidget(self._title)
        self._header.addStretch(1)
        self.body = QVBoxLayout()
        self.body.setContentsMargins(0, 0, 0, 0)
        self.body.setSpacing(4)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 6, 8, 8)
        outer.setSpacing(4)
        outer.addLayout(self._header)
        outer.addLayout(self.body, 1)

    def add_header_widget(self, widget: QWidget, *, stretch: int = 0) -> None:
        """Right of the title; ``stretch`` > 0 lets a flexible label take the free room."""
        self._header.addWidget(widget, stretch)

    def set_title(self, title: str) -> None:
        self._title.setText(title.upper())


class LiveLabel(QLabel):
    """A label for text that changes at every step (a bin number, a confidence, a time).

    Each new text costs a size-hint update, a re-layout of the label's panel and a repaint
    of the panel behind it (the label is transparent), which at 30 redraws a second is a
    large share of a redraw; and text replaced 30 times a second cannot be read. So a new
    text is shown at once when the last one has been up for ``period_s``, else when that
    time is over (a single-shot timer): the newest text is always on screen within
    ``period_s``, and :meth:`text` returns it at once."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *,
                 period_s: float = LIVE_TEXT_PERIOD_S):
        super().__init__(text, parent)
        self.period_s = period_s
        self._pending: str | None = None
        self._shown_at = -math.inf
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._show_pending)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        if text == self.text():
            return
        wait_s = self._shown_at + self.period_s - time.perf_counter()
        if wait_s <= 0:
            self._show(text)
        else:
            self._pending = text
            if not self._timer.isActive():
                self._timer.start(math.ceil(wait_s * 1000))

    def text(self) -> str:
        return super().text() if self._pending is None else self._pending

    def _show_pending(self) -> None:
        if self._pending is not None:
            self._show(self._pending)

    def _show(self, text: str) -> None:
        self._pending = None
        self._timer.stop()
        super().setText(text)
        self._shown_at = time.perf_counter()


def flexible_label(text: str = "", *, dim: bool = False, live: bool = False) -> QLabel:
    """A label whose text changes at run time: it never widens the window (long text is
    cut at the panel's edge instead of pushing the splitters). ``live``: the text changes at
    every step, see :class:`LiveLabel`."""
    label = LiveLabel(text) if live else QLabel(text)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setMinimumWidth(1)
    if dim:
        label.setObjectName("dim")
    return label


class Once:
    """Applies a plot setting only when its value changed since the last call. Every range,
    tick or label change makes pyqtgraph lay out and repaint that plot's axes, so a redraw
    at 30 Hz must not re-apply settings that are already in place."""

    def __init__(self) -> None:
        self._last: dict[str, object] = {}

    def changed(self, key: str, value: object) -> bool:
        if key in self._last and self._last[key] == value:
            return False
        self._last[key] = value
        return True

    def forget(self) -> None:
        self._last.clear()
