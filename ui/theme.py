"""The window's look in one place: dark palette, fonts, and the colours every panel shares.

Class and event colours come from :mod:`live_snn.export.palette`, so the timeline strip, the
class bars, the legend and the exported video all use one colour per class.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QGraphicsItem

from live_snn.export.palette import (
    DIM_TEXT_RGB,
    MATCH_RGB,
    MISMATCH_RGB,
    OFF_EVENT_RGB,
    ON_EVENT_RGB,
    TEXT_RGB,
    class_colors_rgb,
)

from .graphics_view import CanvasWidget, PlotView

WINDOW_RGB = (18, 19, 23)
PANEL_RGB = (26, 28, 34)
PLOT_RGB = (14, 15, 18)
BORDER_RGB = (48, 52, 62)
ACCENT_RGB = (86, 156, 255)
UNCERTAIN_RGB = (92, 94, 104)
NO_DATA_RGB = PLOT_RGB
ERROR_RGB = (150, 40, 40)
CROP_RGB = (210, 210, 190)     # the model's field of view over the events: neutral, not an event hue

__all__ = [
    "ACCENT_RGB",
    "DIM_TEXT_RGB",
    "MATCH_RGB",
    "MISMATCH_RGB",
    "OFF_EVENT_RGB",
    "ON_EVENT_RGB",
    "TEXT_RGB",
    "UNCERTAIN_RGB",
    "apply_theme",
    "class_colors",
    "hex_color",
    "make_plot",
]


def class_colors(num_classes: int) -> np.ndarray:
    """``uint8 [num_classes, 3]``: one RGB colour per class (index = class index)."""
    return np.asarray(class_colors_rgb(num_classes), dtype=np.uint8).reshape(-1, 3)


def hex_color(rgb) -> str:
    r, g, b = (int(c) for c in rgb[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _qcolor(rgb) -> QColor:
    return QColor(*(int(c) for c in rgb[:3]))


STYLE_SHEET = f"""
QMainWindow, QWidget {{ background: {hex_color(WINDOW_RGB)}; color: {hex_color(TEXT_RGB)}; }}
QFrame#panel {{ background: {hex_color(PANEL_RGB)}; border: 1px solid {hex_color(BORDER_RGB)};
               border-radius: 4px; }}
QFrame#panel QLabel, QFrame#panel QCheckBox {{ background: transparent; }}
QCheckBox::indicator {{ width: 12px; height: 12px; border: 1px solid #5a6070;
    border-radius: 2px; background: #23262e; }}
QCheckBox::indicator:checked {{ background: {hex_color(ACCENT_RGB)}; border-color: {hex_color(ACCENT_RGB)}; }}
QLabel#panelTitle {{ color: {hex_color(DIM_TEXT_RGB)}; font-weight: bold; letter-spacing: 1px; }}
QLabel#dim {{ color: {hex_color(DIM_TEXT_RGB)}; }}
QSplitter::handle {{ background: {hex_color(WINDOW_RGB)}; }}
QToolBar {{ background: {hex_color(PANEL_RGB)}; border: none; spacing: 6px; padding: 3px; }}
QToolButton, QPushButton {{ background: {hex_color(BORDER_RGB)}; border: 1px solid #3c4250;
    border-radius: 3px; padding: 3px 9px; }}
QToolButton:hover, QPushButton:hover {{ background: #454c5c; }}
QToolButton:checked, QPushButton:checked {{ background: {hex_color(ACCENT_RGB)}; color: #0b0d12; }}
QToolButton:disabled, QPushButton:disabled {{ color: #5d6270; }}
QComboBox, QSpinBox, QLineEdit {{ background: #23262e; border: 1px solid #3c4250;
    border-radius: 3px; padding: 2px 6px; }}
QSlider::groove:horizontal {{ height: 4px; background: #3c4250; border-radius: 2px; }}
QSlider::handle:horizontal {{ width: 12px; margin: -5px 0; border-radius: 6px;
    background: {hex_color(ACCENT_RGB)}; }}
QSlider::sub-page:horizontal {{ background: {hex_color(ACCENT_RGB)}; border-radius: 2px; }}
QStatusBar {{ background: {hex_color(PANEL_RGB)}; color: {hex_color(DIM_TEXT_RGB)}; }}
QStatusBar QLabel {{ padding: 0 8px; color: {hex_color(DIM_TEXT_RGB)}; }}
QLabel#errorBanner {{ background: {hex_color(ERROR_RGB)}; color: white; padding: 6px 10px;
    border-radius: 3px; }}
QLabel#infoBanner {{ background: #27406b; color: white; padding: 6px 10px; border-radius: 3px; }}
QMenu {{ background: #23262e; border: 1px solid #3c4250; }}
QMenu::item:selected {{ background: {hex_color(ACCENT_RGB)}; color: #0b0d12; }}
QToolTip {{ background: #23262e; color: {hex_color(TEXT_RGB)}; border: 1px solid #3c4250; }}
"""


def apply_theme(app: QApplication) -> None:
    """Dark Fusion palette + the style sheet above, applied to one application."""
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: WINDOW_RGB,
        QPalette.ColorRole.WindowText: TEXT_RGB,
        QPalette.ColorRole.Base: (35, 38, 46),
        QPalette.ColorRole.AlternateBase: PANEL_RGB,
        QPalette.ColorRole.Text: TEXT_RGB,
        QPalette.ColorRole.Button: BORDER_RGB,
        QPalette.ColorRole.ButtonText: TEXT_RGB,
        QPalette.ColorRole.Highlight: ACCENT_RGB,
        QPalette.ColorRole.HighlightedText: (11, 13, 18),
        QPalette.ColorRole.ToolTipBase: (35, 38, 46),
        QPalette.ColorRole.ToolTipText: TEXT_RGB,
        QPalette.ColorRole.PlaceholderText: DIM_TEXT_RGB,
    }
    for role, rgb in roles.items():
        palette.setColor(role, _qcolor(rgb))
    app.setPalette(palette)
    font = QFont("DejaVu Sans", 10)
    app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)


def axis_font(size: int = 9) -> QFont:
    return QFont("DejaVu Sans", size)


def style_plot(item: pg.PlotItem, *, left: str | None = None,
               bottom: str | None = None) -> pg.PlotItem:
    """Axes, fonts and labels of one PlotItem in the window's colours (set per item: no
    pyqtgraph global configuration)."""
    item.setMenuEnabled(False)
    item.hideButtons()
    item.setMouseEnabled(x=False, y=False)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(hex_color(BORDER_RGB)))
        axis.setTextPen(pg.mkPen(hex_color(DIM_TEXT_RGB)))
        axis.setStyle(tickFont=axis_font())
        axis.enableAutoSIPrefix(False)  # "(x0.001)" labels read as noise; units are in titles
        # Repainting an axis replays its QPicture; neighbouring items dirty it at every
        # redraw, so keep it as a pixmap (invalidated whenever its ticks change).
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    label_style = {"color": hex_color(DIM_TEXT_RGB), "font-size": "9pt"}
    if left:
        item.setLabel("left", left, **label_style)
    if bottom:
        item.setLabel("bottom", bottom, **label_style)
    return item


def make_canvas() -> pg.GraphicsLayoutWidget:
    """One drawing surface for all the plots of a panel: every QGraphicsView costs a paint
    pass of its own at each redraw, so a panel draws its plots in a single view."""
    canvas = CanvasWidget()
    canvas.setBackground(hex_color(PLOT_RGB))
    canvas.ci.layout.setContentsMargins(2, 2, 2, 2)
    canvas.ci.layout.setSpacing(2)
    return canvas


def make_plot(*, left: str | None = None, bottom: str | None = None) -> pg.PlotWidget:
    """A single-plot widget in the window's colours."""
    plot = PlotView(background=hex_color(PLOT_RGB))
    style_plot(plot.getPlotItem(), left=left, bottom=bottom)
    return plot
