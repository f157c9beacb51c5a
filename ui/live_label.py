"""A label for text that changes at every step (a bin number, a confidence, a time)."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QPointF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QStaticText, QTextDocument
from PySide6.QtWidgets import QSizePolicy, QWidget

from .theme import DIM_TEXT_RGB, PANEL_RGB, TEXT_RGB

LIVE_TEXT_PERIOD_S = 0.1  # a per-step text is shown at most 10 times a second
_ALIGN_H = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignHCenter


class LiveLabel(QWidget):
    """Draws its own text, plain or rich (``setTextFormat(Qt.RichText)``), on the panel
    colour, in the few ways QLabel is used for such text here (alignment, font).

    A QLabel recomputes its size hint and re-lays out its panel at every new text, and as a
    transparent widget has the panel behind it repainted first; at 30 redraws a second that
    is a large share of a redraw. This widget fills its own background and asks for a new
    layout only when the text needs more room (another line count, or wider than hinted).
    And text replaced 30 times a second cannot be read: a new text is shown at once when the
    last one has been up for ``period_s``, else when that time is over (a single-shot
    timer), so the newest text is always on screen within ``period_s``; :meth:`text`
    returns it at once."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, dim: bool = False,
                 period_s: float = LIVE_TEXT_PERIOD_S):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.period_s = period_s
        self._background = QColor(*PANEL_RGB)
        self._color = QColor(*(DIM_TEXT_RGB if dim else TEXT_RGB))
        self._alignment = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        self._rich = False
        self._text = text
        self._static: QStaticText | None = None   # laid-out rich text, made when painted
        self._natural_width = 0                   # rich text's width on one line
        self._hint = QSize(0, 0)
        self._pending: str | None = None
        self._shown_at = -math.inf
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._show_pending)
        self._update_hint()

    # -- QLabel's API, as far as it is used ------------------------------------------------
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
        return self._text if self._pending is None else self._pending

    def setAlignment(self, alignment: Qt.AlignmentFlag) -> None:  # noqa: N802 (Qt's name)
        self._alignment = alignment
        self.update()

    def setTextFormat(self, text_format: Qt.TextFormat) -> None:  # noqa: N802 (Qt's name)
        self._rich = text_format == Qt.TextFormat.RichText
        self._static = None
        self._update_hint()
        self.update()

    def flush(self) -> None:
        """Show the newest text now (e.g. before a screenshot)."""
        self._show_pending()

    # -- drawing ---------------------------------------------------------------------------
    def _show_pending(self) -> None:
        if self._pending is not None:
            self._show(self._pending)

    def _show(self, text: str) -> None:
        self._pending = None
        self._timer.stop()
        self._text = text
        self._static = None
        self._shown_at = time.perf_counter()
        self._update_hint()
        self.update()

    def _static_text(self) -> QStaticText:
        if self._static is None:
            static = QStaticText(self._text)
            static.setTextFormat(Qt.TextFormat.RichText)
            # Rich QStaticText left to itself wraps at a width of its own (about 140 px):
            # lay it out on one line as wide as it needs, wrapped only at the widget's edge.
            document = QTextDocument()
            document.setDefaultFont(self.font())
            document.setHtml(self._text)
            self._natural_width = math.ceil(document.idealWidth())
            static.setTextWidth(min(self._natural_width, self.width())
                                if self.width() > 1 else self._natural_width)
            static.prepare(font=self.font())
            self._static = static
        return self._static

    def _update_hint(self) -> None:
        if self._rich:
            height = math.ceil(self._static_text().size().height())
            width = self._natural_width
        else:
            metrics = self.fontMetrics()
            lines = self._text.split("\n")
            width = max(metrics.horizontalAdvance(line) for line in lines)
            height = len(lines) * metrics.lineSpacing()
        hint = QSize(width + 2, height + 2)
        if hint.height() != self._hint.height() or hint.width() > self._hint.width():
            self._hint = hint
            self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return self._hint

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(min(self._hint.width(), 1), self._hint.height())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self._rich and event.size().width() != event.oldSize().width():
            self._static = None  # wrapped at the old width
            self._update_hint()
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if event.type() == event.Type.FontChange:
            self._static = None
            self._hint = QSize(0, 0)
            self._update_hint()
        super().changeEvent(event)

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), self._background)
        painter.setPen(self._color)
        painter.setFont(self.font())
        if not self._rich:
            painter.drawText(self.rect(), int(self._alignment), self._text)
            return
        static = self._static_text()
        size, rect = static.size(), self.rect()
        horizontal = self._alignment & _ALIGN_H
        if horizontal & Qt.AlignmentFlag.AlignRight:
            x = rect.width() - size.width()
        elif horizontal & Qt.AlignmentFlag.AlignHCenter:
            x = (rect.width() - size.width()) / 2
        else:
            x = 0.0
        painter.drawStaticText(QPointF(x, (rect.height() - size.height()) / 2), static)
