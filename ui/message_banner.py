"""A strip at the top of the window that shows the latest error (red) or notice (blue) in
plain words, until the user closes it or the next message replaces it. Errors never open a
modal dialog: the window stays usable while the message is up."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class MessageBanner(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QPushButton("✕")
        close.setFixedWidth(30)
        close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.kind: str | None = None
        self.hide()

    def show_error(self, text: str) -> None:
        self._show("errorBanner", f"⚠ {text}")
        self.kind = "error"

    def show_info(self, text: str) -> None:
        self._show("infoBanner", text)
        self.kind = "info"

    def _show(self, object_name: str, text: str) -> None:
        self.label.setObjectName(object_name)
        self.label.setStyleSheet("")  # re-polish with the new object name's style
        self.label.setText(text)
        self.show()

    def dismiss(self) -> None:
        self.kind = None
        self.label.setText("")
        self.hide()

    def text(self) -> str:
        return self.label.text()
