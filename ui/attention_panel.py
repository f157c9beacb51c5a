"""Attention panel: for one attention layer (chosen in a drop-down), the per-step gate over
the last T steps as a heatmap (time on x, channel on y) that scrolls as steps arrive, with a
switch between the fused gate M and the branches A and B; the mean gate per step as a line
under it; channels optionally sorted by their mean gate; and, to the right, the gate of the
newest (or selected) step per channel."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QPushButton,
    QWidget,
)

from live_snn.taps import ATTENTION_PARTS

from .image_item import BlitImageItem
from .panel import Once, Panel, flexible_label
from .theme import ACCENT_RGB, DIM_TEXT_RGB, TEXT_RGB, hex_color, make_canvas, style_plot

PART_LABELS = {"gate": "gate M", "branch_a": "branch A (time)", "branch_b": "branch B (channel)"}
_GATE_MAP = pg.colormap.get("inferno")
_BRANCH_MAP = pg.colormap.get("CET-D1")  # diverging: the branches are signed pre-activations


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean over finite entries; NaN where there are none (steps not seen yet)."""
    finite = np.isfinite(values)
    count = finite.sum(axis=axis)
    total = np.where(finite, values, 0.0).sum(axis=axis)
    return np.divide(total, count, out=np.full(count.shape, np.nan, dtype=np.float32),
                     where=count > 0)


class AttentionPanel(Panel):
    layerChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Temporal attention", parent)
        self._layers: dict[str, int] = {}
        self._window: dict[str, np.ndarray] = {}
        self._bins = np.zeros(0, dtype=np.int64)
        self._marked: int | None = None
        self._order = np.zeros(0, dtype=np.int64)
        self._shown = np.zeros((0, 0), dtype=np.float32)
        self._step_x = self._channel_y = np.zeros(0)   # plot coordinates, kept per shape
        self._identity = np.zeros(0, dtype=np.int64)   # the unsorted channel order
        self._branch_scale: dict[tuple[str, str], float] = {}
        self._once = Once()

        self.layer_box = QComboBox()
        self.layer_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.layer_box.setToolTip("Attention layer (every TCJA / TIM / GAC layer of the model)")
        self.layer_box.currentIndexChanged.connect(self._on_layer_changed)
        self.add_header_widget(self.layer_box)
        self._part_group = QButtonGroup(self)
        self._part_group.setExclusive(True)
        self._part_buttons: dict[str, QPushButton] = {}
        for part, text in (("gate", "M"), ("branch_a", "A"), ("branch_b", "B")):
            button = QPushButton(text)
            button.setCheckable(True)
            button.setToolTip(PART_LABELS[part])
            button.setFixedWidth(34)
            self._part_group.addButton(button)
            self._part_buttons[part] = button
            self.add_header_widget(button)
        self._part_buttons["gate"].setChecked(True)
        self.sort_box = QCheckBox("sort")
        self.sort_box.setToolTip("Sort the channels by their mean gate over the window")
        self.add_header_widget(self.sort_box)

        self._caption = flexible_label("no model running yet", dim=True, live=True)

        self.canvas = make_canvas()
        self.heatmap_plot = hp = style_plot(self.canvas.addPlot(row=0, col=0),
                                            left="channel", bottom="step (0 = newest)")
        hp.getViewBox().invertY(True)
        self._heatmap = BlitImageItem(axisOrder="row-major")
        self._heatmap.setOpts(nanPolicy="omit")
        hp.addItem(self._heatmap)
        self._colorbar = pg.ColorBarItem(
            values=(0, 1), colorMap=_GATE_MAP, interactive=False, width=12, colorMapMenu=False
        )
        self._colorbar.setImageItem(self._heatmap, insert_in=hp)
        self._marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(hex_color(ACCENT_RGB), width=2))
        self._marker.setVisible(False)
        hp.addItem(self._marker)

        self.profile_plot = pp = style_plot(self.canvas.addPlot(row=0, col=1),
                                            bottom="gate at step")
        pp.getViewBox().invertY(True)
        pp.hideAxis("left")
        pp.setYLink(hp.getViewBox())
        # PlotCurveItem, not PlotItem.plot()'s PlotDataItem: the same line for half the
        # Python per update (no dataset, downsampling or symbol machinery).
        self._profile = pg.PlotCurveItem(pen=pg.mkPen(hex_color(ACCENT_RGB), width=1.5),
                                         connect="finite")
        pp.addItem(self._profile)
        pp.setFixedWidth(110)

        self.mean_plot = mp = style_plot(self.canvas.addPlot(row=1, col=0),
                                         left="mean gate", bottom="step (0 = newest)")
        mp.setXLink(hp.getViewBox())
        mp.setYRange(0, 1, padding=0.05)
        mp.getAxis("left").setTicks([[(0.0, "0"), (0.5, ".5"), (1.0, "1")]])
        self._mean_curve = pg.PlotCurveItem(pen=pg.mkPen(hex_color(TEXT_RGB), width=1.5),
                                            connect="finite")
        mp.addItem(self._mean_curve)
        self._mean_marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(hex_color(ACCENT_RGB), width=2))
        self._mean_marker.setVisible(False)
        mp.addItem(self._mean_marker)
        mp.setMinimumHeight(80)
        mp.setMaximumHeight(120)
        # An empty panel already shows the axes it will have (T = 20, 64 channels).
        hp.setRange(xRange=(-19.5, 0.5), yRange=(0, 64), padding=0)
        pp.setXRange(0, 1, padding=0.05)
        pp.getAxis("bottom").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")]])

        self.body.addWidget(self._caption)
        self.body.addWidget(self.canvas, 1)
        hint = flexible_label(
            f"<span style='color:{hex_color(DIM_TEXT_RGB)}'>M = sigmoid(A ⊙ B): "
            f"A mixes the last steps per channel, B mixes neighbouring channels</span>"
        )
        self.body.addWidget(hint)
        for button in self._part_buttons.values():
            button.toggled.connect(self._redraw)
        self.sort_box.toggled.connect(self._redraw)

    # -- configuration -------------------------------------------------------------------
    def set_layers(self, layers: Mapping[str, int]) -> None:
        """Attention layer name -> channel count, in the model's order."""
        self._layers = dict(layers)
        self._branch_scale.clear()
        self._once.forget()
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        for name, channels in self._layers.items():
            self.layer_box.addItem(f"{name} ({channels} ch)", name)
        self.layer_box.blockSignals(False)
        self._window, self._bins = {}, np.zeros(0, dtype=np.int64)
        if not self._layers:
            self._caption.setText("no attention layers in this model")
        self._redraw()

    def current_layer(self) -> str | None:
        return self.layer_box.currentData()

    def set_current_layer(self, name: str) -> None:
        index = self.layer_box.findData(name)
        if index < 0:
            raise KeyError(f"no attention layer {name!r}; have {list(self._layers)}")
        self.layer_box.setCurrentIndex(index)

    def current_part(self) -> str:
        return next(p for p, b in self._part_buttons.items() if b.isChecked())

    def set_part(self, part: str) -> None:
        if part not in self._part_buttons:
            raise KeyError(f"no attention part {part!r}; expected one of {ATTENTION_PARTS}")
        self._part_buttons[part].setChecked(True)

    def _on_layer_changed(self, _index: int) -> None:
        layer = self.current_layer()
        if layer is not None:
            self.layerChanged.emit(layer)

    # -- data ----------------------------------------------------------------------------
    def set_window(
        self, parts: Mapping[str, np.ndarray], bins: np.ndarray, *, marked_bin: int | None = None
    ) -> None:
        """The current layer's ``{part: [T, C]}`` for ``bins [T]`` (oldest first, NaN rows
        where a step is missing); ``marked_bin`` is highlighted (a selected step)."""
        self._window = {p: np.asarray(a, dtype=np.float32) for p, a in parts.items()}
        self._bins = np.asarray(bins, dtype=np.int64)
        self._marked = marked_bin
        self._redraw()

    def _redraw(self, *_args) -> None:
        layer, part = self.current_layer(), self.current_part()
        data = self._window.get(part)
        if layer is None or data is None or not data.size:
            self._shown = np.zeros((0, 0), dtype=np.float32)
            self._heatmap.clear()
            self._mean_curve.setData([], [])
            self._profile.setData([], [])
            return
        t, c = data.shape
        gate = self._window["gate"]
        mean_per_channel = _nanmean(gate, axis=0)
        mean_per_step = _nanmean(gate, axis=1)
        if self.sort_box.isChecked():
            key = np.where(np.isnan(mean_per_channel), np.inf, -mean_per_channel)
            self._order = np.argsort(key, kind="stable")  # channels never seen go last
            self._shown = data[:, self._order]
        else:
            if len(self._identity) != c:
                self._identity = np.arange(c)
            self._order, self._shown = self._identity, data
        lo, hi, cmap = self._levels(layer, part, data)
        once = self._once
        if once.changed("cmap", cmap.name):
            self._colorbar.setColorMap(cmap)
        if once.changed("levels", (lo, hi)):
            self._colorbar.setLevels((lo, hi))
        # Rows = channels, columns = steps; x = step offset, 0 = newest in the window.
        self._heatmap.setImage(self._shown.T, autoLevels=False, levels=(lo, hi))
        hp = self.heatmap_plot
        if once.changed("shape", (t, c)):
            self._heatmap.setRect(QRectF(-t + 0.5, 0, t, c))
            hp.setXRange(-t + 0.5, 0.5, padding=0)
            hp.setYRange(0, c, padding=0)
        if once.changed("sorted", self.sort_box.isChecked()):
            hp.setLabel("left", "channel, sorted by mean gate" if self.sort_box.isChecked()
                        else "channel")
        if len(self._step_x) != t:
            self._step_x = np.arange(-t + 1, 1, dtype=float)
        x = self._step_x
        self._mean_curve.setData(x, mean_per_step)
        marked = self._marked_index()
        for line in (self._marker, self._mean_marker):
            line.setVisible(marked is not None)
            if marked is not None:
                line.setPos(x[marked])
        column = self._shown[marked if marked is not None else t - 1]
        if len(self._channel_y) != c:
            self._channel_y = np.arange(c) + 0.5
        self._profile.setData(column, self._channel_y)
        pp = self.profile_plot
        if once.changed("profile_range", (lo, hi)):
            pp.setXRange(lo, hi, padding=0.05)
            mid = (lo + hi) / 2
            pp.getAxis("bottom").setTicks([[(lo, f"{lo:.2g}"), (mid, f"{mid:.2g}"),
                                            (hi, f"{hi:.2g}")]])
        if once.changed("profile_label", part):
            pp.setLabel("bottom", f"{PART_LABELS[part].split(' ')[0]} at step",
                        color=hex_color(DIM_TEXT_RGB))
        first, last = (int(self._bins[0]), int(self._bins[-1])) if len(self._bins) else (0, 0)
        self._caption.setText(
            f"{layer}: {PART_LABELS[part]}, {c} channels × last {t} steps (bins {first}–{last})"
        )

    def _levels(self, layer: str, part: str, data: np.ndarray):
        if part == "gate":
            return 0.0, 1.0, _GATE_MAP
        # Symmetric around 0 so the sign reads off the colour; the scale only grows within a
        # layer (until the layers are set again), so the colours don't flicker step to step.
        finite = np.abs(data[np.isfinite(data)])
        current = float(np.percentile(finite, 99)) if finite.size else 1.0
        scale = max(self._branch_scale.get((layer, part), 0.0), current, 1e-6)
        self._branch_scale[(layer, part)] = scale
        return -scale, scale, _BRANCH_MAP

    def _marked_index(self) -> int | None:
        if self._marked is None or not len(self._bins):
            return None
        hits = np.flatnonzero(self._bins == self._marked)
        return int(hits[0]) if len(hits) else None

    # -- what is drawn (tests) ---------------------------------------------------------
    def drawn_image(self) -> np.ndarray:
        """The heatmap as drawn: one row per channel, one column per step."""
        return np.array(self._heatmap.image)

    def color_levels(self) -> tuple[float, float]:
        """The values at the two ends of the heatmap's colour scale."""
        lo, hi = self._heatmap.getLevels()
        return float(lo), float(hi)

    def mean_gate_line(self) -> tuple[np.ndarray, np.ndarray]:
        """``(step offsets, mean gate per step)`` as drawn under the heatmap."""
        return self._mean_curve.getData()

    def marked_offset(self) -> float | None:
        """Where the marked (selected) step is drawn, as a step offset (0 = the newest of
        the window); None when no step is marked."""
        return float(self._marker.value()) if self._marker.isVisible() else None

    def profile(self) -> tuple[np.ndarray, np.ndarray]:
        """``(values, channel rows)`` of the profile: the step in view, channel by channel."""
        return self._profile.getData()

    def heatmap_data(self) -> np.ndarray:
        """The shown part as ``[T, C]`` (time first), in the displayed channel order."""
        return self._shown.copy()

    def channel_order(self) -> np.ndarray:
        return self._order.copy()
