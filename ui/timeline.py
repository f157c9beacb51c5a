"""Timeline: the predicted class of every step as a coloured strip over time (uncertain steps
greyed, the smoothed confidence drawn across it), the ground truth under it when the source
has labels, a cursor at the newest step and a marker at the selected one. Clicking a step
selects it (``binClicked``)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget

from .image_item import BlitImageItem
from .panel import Once, Panel
from .theme import (
    ACCENT_RGB,
    NO_DATA_RGB,
    TEXT_RGB,
    UNCERTAIN_RGB,
    class_colors,
    hex_color,
    make_plot,
)

CONFIDENCE_POINTS = 2000   # most points drawn in the confidence line
_PREDICTION_ROW = 0
_TRUTH_ROW = 1


def strip_colors(
    labels: np.ndarray, uncertain: np.ndarray | None, colors: np.ndarray
) -> np.ndarray:
    """``uint8 [N, 3]``: the class colour per step, blended to grey when uncertain and the
    background where there is no label (``-1``)."""
    labels = np.asarray(labels, dtype=np.int64)  # indexes the table below, even if empty
    k = len(colors)
    # One lookup in a small table: [background, K class colours, K greyed class colours]
    # (a strip has one entry per step of the history: up to its capacity, 5 times a second).
    colors = np.asarray(colors, dtype=np.uint8).reshape(k, 3)
    grey = np.asarray(UNCERTAIN_RGB, dtype=np.float32)
    table = np.concatenate([
        np.asarray(NO_DATA_RGB, dtype=np.uint8)[None],
        colors,
        (0.3 * colors.astype(np.float32) + 0.7 * grey).astype(np.uint8),
    ])
    known = (labels >= 0) & (labels < k)
    index = np.where(known, labels + 1, 0)
    if uncertain is not None:
        index += k * (known & np.asarray(uncertain, dtype=bool))
    return table[index]


def _unbroken(name: str) -> str:
    """A class name for the legend that wraps between chips, never inside a name."""
    return html.escape(name).replace(" ", "&nbsp;").replace("-", "\u2011")


class TimelineView(Panel):
    binClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Timeline", parent)
        self.class_names: tuple[str, ...] = ()
        self._colors = np.zeros((0, 3), dtype=np.uint8)
        self._dt_us = 1
        self._first_bin = 0
        self._labels = np.zeros(0, dtype=np.int64)
        self._truth: np.ndarray | None = None
        self._span_bins: int | None = None
        self._selected_bin: int | None = None
        self._once = Once()

        self._legend = QLabel("")
        self._legend.setTextFormat(Qt.TextFormat.RichText)
        self._legend.setWordWrap(True)

        self.plot = make_plot(bottom="time (s)")
        item = self.plot.getPlotItem()
        item.setMouseEnabled(x=True, y=False)
        item.getViewBox().invertY(True)
        item.getAxis("left").setStyle(tickLength=0)
        self._strip = BlitImageItem(axisOrder="row-major")  # uint8 RGB: no levels
        item.addItem(self._strip)
        self._confidence = pg.PlotCurveItem(pen=pg.mkPen(*TEXT_RGB, 160, width=1))
        item.addItem(self._confidence)
        self._cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen(hex_color(TEXT_RGB), width=1))
        self._selected = pg.InfiniteLine(angle=90, pen=pg.mkPen(hex_color(ACCENT_RGB), width=2))
        self._selected.setVisible(False)
        self._cursor.setVisible(False)
        item.addItem(self._cursor)
        item.addItem(self._selected)
        item.setXRange(0, 10, padding=0.01)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_click)
        self.body.addWidget(self.plot, 1)
        self.body.addWidget(self._legend)
        self._set_rows(with_truth=False)

    # -- configuration -------------------------------------------------------------------
    def set_classes(self, names: Sequence[str]) -> None:
        self.class_names = tuple(names)
        self._colors = class_colors(len(self.class_names))
        chips = [
            f"<span style='color:{hex_color(c)}'>■</span>&nbsp;{_unbroken(name)}"
            for name, c in zip(self.class_names, self._colors, strict=True)
        ]
        chips.append(f"<span style='color:{hex_color(UNCERTAIN_RGB)}'>■</span>&nbsp;uncertain")
        self._legend.setText(" &nbsp; ".join(chips))

    def set_span(self, dt_us: int, total_bins: int | None) -> None:
        """Bin width, and the number of bins of a recording (None for a live source: the view
        then follows the newest steps)."""
        self._dt_us = max(int(dt_us), 1)
        self._span_bins = total_bins
        self._fit_x()

    # -- data ----------------------------------------------------------------------------
    def set_data(
        self,
        first_bin: int,
        labels: np.ndarray,
        *,
        uncertain: np.ndarray | None = None,
        confidence: np.ndarray | None = None,
        ground_truth: np.ndarray | None = None,
    ) -> None:
        """Per-step arrays for bins ``first_bin .. first_bin + N - 1`` (label -1 = no step)."""
        labels = np.asarray(labels, dtype=np.int64)
        self._first_bin = int(first_bin)
        self._labels = labels
        has_truth = ground_truth is not None and bool(np.any(np.asarray(ground_truth) >= 0))
        self._truth = np.asarray(ground_truth, dtype=np.int64) if has_truth else None
        self._set_rows(with_truth=has_truth)
        n = len(labels)
        if not n:
            self._strip.clear()
            self._confidence.setData([], [])
            return
        rows = [strip_colors(labels, uncertain, self._colors)]
        if self._truth is not None:
            rows.append(strip_colors(self._truth, None, self._colors))
        image = np.stack(rows)  # [rows, N, 3]
        self._strip.setImage(image, autoLevels=False)
        dt_s = self._dt_us / 1e6
        if self._once.changed("rect", (self._first_bin, n, len(rows), self._dt_us)):
            self._strip.setRect(QRectF(self._first_bin * dt_s, 0, n * dt_s, len(rows)))
        if confidence is not None:
            x = (self._first_bin + np.arange(n) + 0.5) * dt_s
            y = 1.0 - np.asarray(confidence, float)  # in the row: top edge 100 %, bottom 0 %
            group = -(-n // CONFIDENCE_POINTS)
            if group > 1:  # a long history: means of runs of steps, a few per pixel
                keep = n // group * group
                x = x[n - keep:].reshape(-1, group).mean(axis=1)
                y = y[n - keep:].reshape(-1, group).mean(axis=1)
            self._confidence.setData(x, y, connect="finite")
        self._fit_x()

    def set_cursor(self, bin_index: int | None) -> None:
        if bin_index is None:
            self._cursor.setVisible(False)
            return
        self._cursor.setVisible(True)
        self._cursor.setPos((bin_index + 0.5) * self._dt_us / 1e6)

    def set_selected(self, bin_index: int | None) -> None:
        self._selected_bin = bin_index
        self._selected.setVisible(bin_index is not None)
        if bin_index is not None:
            self._selected.setPos((bin_index + 0.5) * self._dt_us / 1e6)

    def _set_rows(self, *, with_truth: bool) -> None:
        if not self._once.changed("rows", with_truth):
            return
        ticks = [(_PREDICTION_ROW + 0.5, "predicted")]
        if with_truth:
            ticks.append((_TRUTH_ROW + 0.5, "truth"))
        item = self.plot.getPlotItem()
        item.getAxis("left").setTicks([ticks])
        item.setYRange(0, len(ticks), padding=0.02)

    def _fit_x(self) -> None:
        dt_s = self._dt_us / 1e6
        if self._span_bins:
            x_range = (0.0, self._span_bins * dt_s)
        elif len(self._labels):
            end = (self._first_bin + len(self._labels)) * dt_s
            x_range = (max(self._first_bin * dt_s, end - 30.0), end)
        else:
            return
        if self._once.changed("x_range", x_range):
            self.plot.getPlotItem().setXRange(*x_range, padding=0.01)

    # -- interaction ---------------------------------------------------------------------
    def bin_at(self, x_seconds: float) -> int | None:
        """The step under a time coordinate, if the timeline holds one there."""
        b = int(np.floor(x_seconds * 1e6 / self._dt_us))
        row = b - self._first_bin
        if 0 <= row < len(self._labels) and self._labels[row] >= 0:
            return b
        return None

    def _on_scene_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        view = self.plot.getPlotItem().getViewBox()
        pos: QPointF = event.scenePos()
        if not view.sceneBoundingRect().contains(pos):
            return
        b = self.bin_at(view.mapSceneToView(pos).x())
        if b is not None:
            self.binClicked.emit(b)

    def x_of_bin(self, bin_index: int) -> float:
        return (bin_index + 0.5) * self._dt_us / 1e6

    # -- for tests -----------------------------------------------------------------------
    def strip_labels(self) -> tuple[int, np.ndarray]:
        """``(first_bin, labels)`` currently drawn (one entry per bin)."""
        return self._first_bin, self._labels.copy()

    def strip_image(self) -> np.ndarray:
        """The strip as drawn: ``uint8 [rows, steps, 3]`` (predictions, then truth)."""
        return np.array(self._strip.image)

    def selected_bin(self) -> int | None:
        """The step marked as selected, if any."""
        return self._selected_bin

    def truth_labels(self) -> np.ndarray | None:
        return None if self._truth is None else self._truth.copy()
