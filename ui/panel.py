"""The frame every panel sits in: a title line (with room for the panel's own switches on the
right) above the panel's body, so the window reads as a set of labelled boxes."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from .live_label import LiveLabel


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


def flexible_label(text: str = "", *, dim: bool = False,
                   live: bool = False) -> QLabel | LiveLabel:
    """A label whose text changes at run time: it never widens the window (long text is
    cut at the panel's edge instead of pushing the splitters). ``live``: the text changes at
    every step, see :class:`LiveLabel`."""
    label = LiveLabel(text, dim=dim) if live else QLabel(text)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setMinimumWidth(1)
    if dim and not live:
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
