"""Prediction panel: the label in large type with its confidence, and one bar per class (the
smoothed probability as a solid bar in the class's colour, this step's raw probability as a
thin light bar inside it). The "uncertain" state greys the label out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QWidget

from .bars import BoxedBarGraphItem
from .panel import Panel, flexible_label
from .theme import (
    DIM_TEXT_RGB,
    MATCH_RGB,
    MISMATCH_RGB,
    TEXT_RGB,
    UNCERTAIN_RGB,
    axis_font,
    class_colors,
    hex_color,
    make_plot,
)

_LABEL_POINT_SIZES = (24, 20, 17, 14)
NOTHING_OPEN = "open a source from the Open menu"
_SMOOTHED_HEIGHT = 0.72
_RAW_HEIGHT = 0.22


def _bars_box(num_classes: int) -> QRectF:
    """Where the bars of ``num_classes`` classes can be, outline included: probabilities
    0 to 1 on x, one row per class on y."""
    return QRectF(-0.1, -1.0, 1.2, num_classes + 1.0)


class PredictionPanel(Panel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Prediction", parent)
        self.class_names: tuple[str, ...] = ()
        self._colors = np.zeros((0, 3), dtype=np.uint8)
        self._raw = np.zeros(0, dtype=np.float32)
        self._smoothed = np.zeros(0, dtype=np.float32)
        self._brushes: list = []
        self._bar_rows = self._bar_starts = np.zeros(0)
        self._bars_label: int | None = None   # the outlined bar, as last drawn
        self._label_pen = pg.mkPen("w", width=2)
        self._no_pen = pg.mkPen(None)

        self._step_label = flexible_label(dim=True, live=True)
        self._step_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.add_header_widget(self._step_label, stretch=1)

        self.label = flexible_label("—")
        font = QFont("DejaVu Sans", 24)
        font.setBold(True)
        self.label.setFont(font)
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.label.setMinimumHeight(44)
        self.detail = flexible_label(NOTHING_OPEN, live=True)
        self.detail.setFont(QFont("DejaVu Sans", 11))
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.body.addWidget(self.label)
        self.body.addWidget(self.detail)

        self.plot = make_plot(bottom="probability")
        item = self.plot.getPlotItem()
        item.setMouseEnabled(x=False, y=False)
        item.getViewBox().invertY(True)  # class 0 at the top, in the dataset's order
        item.setRange(xRange=(0, 1), yRange=(-0.5, 10.5), padding=0.01)
        item.getAxis("left").setStyle(tickFont=axis_font(10), tickLength=0)
        item.showGrid(x=True, y=False, alpha=0.15)
        self._smoothed_bars = BoxedBarGraphItem(_bars_box(0), x0=[], y=[], width=[],
                                                height=_SMOOTHED_HEIGHT)
        self._raw_bars = BoxedBarGraphItem(
            _bars_box(0), x0=[], y=[], width=[], height=_RAW_HEIGHT,
            brush=pg.mkBrush(*TEXT_RGB, 190), pen=pg.mkPen(None),
        )
        self._threshold = pg.InfiniteLine(
            angle=90, pen=pg.mkPen(hex_color(UNCERTAIN_RGB), width=1, style=Qt.PenStyle.DashLine)
        )
        self._threshold.setVisible(False)
        item.addItem(self._smoothed_bars)
        item.addItem(self._raw_bars)
        item.addItem(self._threshold)
        legend = flexible_label(
            f"<span style='color:{hex_color(DIM_TEXT_RGB)}'>bar: smoothed · "
            f"thin line: this step (raw)</span>"
        )
        self.body.addWidget(self.plot, 1)
        self.body.addWidget(legend)

    def set_classes(self, names: Sequence[str], *, uncertain_below: float = 0.0) -> None:
        self.class_names = tuple(names)
        k = len(self.class_names)
        self._colors = class_colors(k)
        self._brushes = [pg.mkBrush(*c) for c in self._colors]
        self._bars_label = None  # new brushes: set again at the next draw
        axis = self.plot.getPlotItem().getAxis("left")
        axis.setTicks([[(i, name) for i, name in enumerate(self.class_names)]])
        self.plot.getPlotItem().setYRange(-0.5, k - 0.5, padding=0.02)
        for bars in (self._smoothed_bars, self._raw_bars):
            bars.set_box(_bars_box(k))
        self._threshold.setPos(uncertain_below)
        self._threshold.setVisible(uncertain_below > 0)
        self.clear()

    def clear(self) -> None:
        k = len(self.class_names)
        self._raw = np.zeros(k, dtype=np.float32)
        self._smoothed = np.zeros(k, dtype=np.float32)
        self._draw_bars(label=-1)
        self.label.setText("—")
        self._set_label_style(f"color: {hex_color(DIM_TEXT_RGB)};")
        self.detail.setText("waiting for the first step" if k else
                            NOTHING_OPEN)
        self._step_label.setText("")

    def show_step(
        self,
        probs: np.ndarray,
        smoothed: np.ndarray,
        label: int,
        confidence: float,
        uncertain: bool,
        *,
        ground_truth: int = -1,
        caption: str = "",
    ) -> None:
        k = len(self.class_names)
        probs, smoothed = np.asarray(probs, np.float32), np.asarray(smoothed, np.float32)
        if probs.shape != (k,) or smoothed.shape != (k,):
            raise ValueError(
                f"expected {k} class probabilities, got raw {probs.shape} and smoothed {smoothed.shape}"
            )
        self._raw, self._smoothed = probs, smoothed
        self._draw_bars(label=label)
        name = self.class_names[label] if 0 <= label < k else "?"
        if uncertain:
            self._set_label_text("uncertain")
            self._set_label_style(f"color: {hex_color(UNCERTAIN_RGB)}; font-style: italic;")
            detail = f"best guess <b>{name}</b> at {confidence:.0%}"
        else:
            self._set_label_text(name)
            self._set_label_style(f"color: {hex_color(self._colors[label])};")
            detail = f"confidence <b>{confidence:.0%}</b>"
        if 0 <= ground_truth < k:
            ok = ground_truth == label and not uncertain
            color = hex_color(MATCH_RGB if ok else MISMATCH_RGB)
            # A right label is already named in large type above: once is enough.
            truth = "matches truth ✓" if ok else f"truth {self.class_names[ground_truth]} ✗"
            detail += f" &nbsp;·&nbsp; <span style='color:{color}'>{truth}</span>"
        self.detail.setText(detail)
        self._step_label.setText(caption)

    def _set_label_style(self, style: str) -> None:
        # A style sheet change re-polishes and re-lays out the widget: only when it differs.
        if self.label.styleSheet() != style:
            self.label.setStyleSheet(style)

    def _set_label_text(self, text: str) -> None:
        """Large type, shrunk for a long class name so that it is never cut."""
        if text == self.label.text():
            return
        width = max(self.label.width(), 200)
        for size in _LABEL_POINT_SIZES:
            font = QFont("DejaVu Sans", size)
            font.setBold(True)
            if QFontMetrics(font).horizontalAdvance(text) <= width:
                break
        self.label.setFont(font)
        self.label.setText(text)

    def _draw_bars(self, *, label: int) -> None:
        k = len(self.class_names)
        if len(self._bar_rows) != k:
            self._bar_rows, self._bar_starts = np.arange(k, dtype=float), np.zeros(k)
            self._bars_label = None
        common = {"x0": self._bar_starts, "y": self._bar_rows}
        colours = {}
        if label != self._bars_label:  # pens and brushes only when the outlined bar moves
            self._bars_label = label
            colours = {"brushes": self._brushes,
                       "pens": [self._label_pen if i == label else self._no_pen
                                for i in range(k)]}
        self._smoothed_bars.setOpts(**common, width=np.nan_to_num(self._smoothed),
                                    height=_SMOOTHED_HEIGHT, **colours)
        self._raw_bars.setOpts(**common, width=np.nan_to_num(self._raw), height=_RAW_HEIGHT)

    # -- for tests and the screenshot check ---------------------------------------------
    def caption(self) -> str:
        """Which step is shown ("bin 12 · 0.240 s")."""
        return self._step_label.text()

    def bar_values(self) -> tuple[np.ndarray, np.ndarray]:
        """``(raw, smoothed)`` probabilities currently drawn."""
        return self._raw.copy(), self._smoothed.copy()

    def smoothed_bar_widths(self) -> np.ndarray:
        """The lengths of the smoothed-probability bars as drawn."""
        return np.array(self._smoothed_bars.opts["width"], dtype=float)

    def outlined_bars(self) -> list[int]:
        """The classes whose bar is outlined (the label's)."""
        return [i for i, pen in enumerate(self._smoothed_bars.opts["pens"] or [])
                if pen is self._label_pen]

    def bar_styles(self) -> tuple[list, list]:
        """``(brushes, pens)`` of the smoothed bars, one of each per class."""
        opts = self._smoothed_bars.opts
        return list(opts["brushes"] or []), list(opts["pens"] or [])

    def threshold_shown(self) -> float | None:
        """The uncertainty threshold line's probability, None when it is not drawn."""
        return float(self._threshold.value()) if self._threshold.isVisible() else None
