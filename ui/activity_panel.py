"""Network activity: the spike rate of every spiking layer per step, as a heatmap (layers on
y, the recent steps on x) with the newest (or selected) step's rate per layer as bars."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QWidget

from .bars import BoxedBarGraphItem
from .image_item import BlitImageItem
from .panel import Once, Panel, flexible_label
from .theme import ACCENT_RGB, axis_font, hex_color, make_canvas, style_plot

_RATE_MAP = pg.colormap.get("viridis")
ACTIVITY_PLACEHOLDER_STEPS = 120  # x range of the empty panel, before the first window


class ActivityPanel(Panel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("Network activity", parent)
        self.layer_names: tuple[str, ...] = ()
        self._rates = np.zeros((0, 0), dtype=np.float32)
        self._bins = np.zeros(0, dtype=np.int64)
        self._top = 0.05
        self._once = Once()

        self._caption = flexible_label("spike rate per layer and step", dim=True)
        self._caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.add_header_widget(self._caption, stretch=1)

        self.canvas = make_canvas()
        self.heatmap_plot = hp = style_plot(self.canvas.addPlot(row=0, col=0),
                                            bottom="step (0 = newest)")
        hp.getViewBox().invertY(True)
        hp.getAxis("left").setStyle(tickFont=axis_font(9), tickLength=0)
        self._heatmap = BlitImageItem(axisOrder="row-major")
        self._heatmap.setOpts(nanPolicy="omit")
        hp.addItem(self._heatmap)
        self._colorbar = pg.ColorBarItem(
            values=(0, self._top), colorMap=_RATE_MAP, interactive=False, width=12,
            colorMapMenu=False,
        )
        self._colorbar.setImageItem(self._heatmap, insert_in=hp)
        self._marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(hex_color(ACCENT_RGB), width=2))
        self._marker.setVisible(False)
        hp.addItem(self._marker)

        self.bar_plot = bp = style_plot(self.canvas.addPlot(row=0, col=1), bottom="rate at step")
        bp.getViewBox().invertY(True)
        bp.hideAxis("left")
        bp.setYLink(hp.getViewBox())
        self._bars = BoxedBarGraphItem(QRectF(), x0=[], y=[], width=[], height=0.7,
                                       brush=pg.mkBrush(hex_color(ACCENT_RGB)))
        bp.addItem(self._bars)
        bp.setFixedWidth(130)
        hp.setRange(xRange=(-ACTIVITY_PLACEHOLDER_STEPS + 0.5, 0.5), yRange=(0, 1), padding=0)
        bp.setXRange(0, self._top, padding=0.05)
        self.body.addWidget(self.canvas, 1)

    def set_layers(self, names: Sequence[str]) -> None:
        self.layer_names = tuple(names)
        self._top = 0.05
        self._once.forget()
        axis = self.heatmap_plot.getAxis("left")
        axis.setTicks([[(i + 0.5, name) for i, name in enumerate(self.layer_names)]])
        self._rates = np.zeros((0, len(self.layer_names)), dtype=np.float32)
        self._heatmap.clear()
        self._bars.setOpts(x0=[], y=[], width=[])

    def set_window(self, rates: np.ndarray, bins: np.ndarray, *, marked_bin: int | None = None) -> None:
        """``rates [N, L]`` for ``bins [N]`` (oldest first, NaN where a step is missing)."""
        rates = np.asarray(rates, dtype=np.float32)
        n_layers = len(self.layer_names)
        if rates.ndim != 2 or rates.shape[1] != n_layers:
            raise ValueError(f"expected spike rates [N, {n_layers}], got {rates.shape}")
        self._rates, self._bins = rates, np.asarray(bins, dtype=np.int64)
        n = len(rates)
        if not n or not n_layers:
            return
        finite = rates[np.isfinite(rates)]
        if finite.size:  # the colour scale only grows, so colours stay comparable over time
            self._top = max(self._top, float(finite.max()))
        once = self._once
        if once.changed("top", (self._top, n_layers)):
            # The bars never pass the top of the scale (the largest rate seen so far).
            self._bars.set_box(QRectF(-0.1 * self._top, -0.5, 1.2 * self._top, n_layers + 1.0))
            self._colorbar.setLevels((0.0, self._top))
            self.bar_plot.setXRange(0, self._top, padding=0.05)
            self.bar_plot.getAxis("bottom").setTicks(
                [[(0.0, "0"), (self._top, f"{self._top:.2g}")]]
            )
        self._heatmap.setImage(rates.T, autoLevels=False, levels=(0.0, self._top))
        if once.changed("shape", (n, n_layers)):
            self._heatmap.setRect(QRectF(-n + 0.5, 0, n, n_layers))
            hp = self.heatmap_plot
            hp.setXRange(-n + 0.5, 0.5, padding=0)
            hp.setYRange(0, n_layers, padding=0)
        hits = np.flatnonzero(self._bins == marked_bin) if marked_bin is not None else []
        index = int(hits[0]) if len(hits) else n - 1
        self._marker.setVisible(len(hits) > 0)
        self._marker.setPos(index - n + 1)
        current = np.nan_to_num(rates[index])
        self._bars.setOpts(x0=np.zeros(n_layers), y=np.arange(n_layers) + 0.5, width=current,
                           height=0.7)

    # -- what is drawn (tests) ---------------------------------------------------------
    def rates_window(self) -> np.ndarray:
        return self._rates.copy()

    def drawn_image(self) -> np.ndarray:
        """The heatmap as drawn: one row per layer, one column per step."""
        return np.array(self._heatmap.image)

    def bar_rates(self) -> np.ndarray:
        """The rates drawn as bars: those of the step in view (the marked one, else the
        newest)."""
        return np.array(self._bars.opts["width"], dtype=float)
