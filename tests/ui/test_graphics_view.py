from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsView

from live_snn_ui.graphics_view import CanvasWidget, PlotView
from live_snn_ui.theme import make_canvas, make_plot


def test_the_panels_views_are_painted_by_qt_itself(themed_app):
    canvas, plot = make_canvas(), make_plot()
    assert isinstance(canvas, CanvasWidget) and isinstance(plot, PlotView)
    for view in (canvas, plot):
        # Not pyqtgraph's Python override: Qt calls its own paintEvent, without the GIL.
        assert type(view).paintEvent is QGraphicsView.paintEvent


@pytest.mark.parametrize("kind", ["canvas", "plot"])
def test_the_view_boxes_are_prepared_before_each_paint(themed_app, qtbot, kind):
    """A view box applies a new range only when the scene prepares for a paint: painted with
    a stale transform, the square would be drawn where the previous range put it."""
    if kind == "canvas":
        widget = make_canvas()
        box = widget.addViewBox()
    else:
        widget = make_plot()
        widget.getPlotItem().hideAxis("left")
        widget.getPlotItem().hideAxis("bottom")
        box = widget.getPlotItem().getViewBox()
    qtbot.addWidget(widget)
    square = QGraphicsRectItem(0, 0, 1, 1)
    square.setBrush(pg.mkBrush(255, 0, 0))
    square.setPen(pg.mkPen(None))
    box.addItem(square)
    box.setRange(QRectF(0, 0, 1, 1), padding=0)
    widget.resize(200, 200)
    widget.show()
    qtbot.waitExposed(widget)
    prepared = []
    widget.scene().sigPrepareForPaint.connect(lambda: prepared.append(True))

    box.setRange(QRectF(0, 0, 2, 2), padding=0)  # the square: the bottom-left quarter
    image = widget.grab().toImage()
    assert prepared

    def red(fx: float, fy: float) -> bool:
        c = image.pixelColor(int(fx * image.width()), int(fy * image.height()))
        return c.red() > 200 and c.green() < 50 and c.blue() < 50

    assert red(0.25, 0.75)
    assert not red(0.75, 0.25) and not red(0.75, 0.75) and not red(0.25, 0.25)
    assert np.isfinite(box.viewRange()).all()
