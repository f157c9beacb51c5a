"""pyqtgraph views whose painting runs with the GIL released.

pyqtgraph's ``GraphicsView.paintEvent`` is a Python override that calls
``scene().prepareForPaint()`` and then Qt's own ``paintEvent``. C++ called from Python keeps
the GIL, so with that override all of Qt's scene painting (traversal, clipping, blits,
fills) holds it, and the engine thread, which needs the GIL between its torch calls, waits
for every redraw. Here Qt's ``paintEvent`` is put back (Qt calls it straight from the event
loop, with the GIL released; only items that paint in Python take it, for their own
paint) and an event filter prepares the scene just before each paint instead."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QGraphicsView


class _PrepareBeforePaint(QObject):
    """What pyqtgraph's paintEvent did before painting: let the view boxes update their
    ranges and transforms (``sigPrepareForPaint``)."""

    def __init__(self, view: pg.GraphicsView):
        super().__init__(view)
        self._view = view

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            self._view.scene().prepareForPaint()
        return False


def _paint_in_qt(view: pg.GraphicsView) -> None:
    view._prepare_before_paint = _PrepareBeforePaint(view)  # kept with its Python override
    view.viewport().installEventFilter(view._prepare_before_paint)
    # The view paints every pixel of its viewport (its background brush first): marked
    # opaque, Qt does not paint the window, panel and style-sheet backgrounds under it at
    # each redraw first, only to have them covered.
    view.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)


class CanvasWidget(pg.GraphicsLayoutWidget):
    """``pg.GraphicsLayoutWidget`` painted by Qt without the GIL (see the module doc)."""

    paintEvent = QGraphicsView.paintEvent  # noqa: N815 (Qt's name)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        _paint_in_qt(self)


class PlotView(pg.PlotWidget):
    """``pg.PlotWidget`` painted by Qt without the GIL (see the module doc)."""

    paintEvent = QGraphicsView.paintEvent  # noqa: N815 (Qt's name)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        _paint_in_qt(self)
