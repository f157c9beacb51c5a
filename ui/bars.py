"""Bar items whose bounds are known in advance."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF


class BoxedBarGraphItem(pg.BarGraphItem):
    """``pg.BarGraphItem`` whose bounding rect is a fixed box (the plot's range).

    pyqtgraph recomputes a bar item's bounds from its data, padded by the pen width in
    pixels, every time Qt asks for them (several times per redraw, each a device-transform
    computation in Python). Bars that always stay inside a known box can answer with that
    box; bars drawn outside it would not be repainted correctly, so ``box`` must hold them."""

    def __init__(self, box: QRectF, **opts):
        self._box = QRectF(box)
        super().__init__(**opts)

    def set_box(self, box: QRectF) -> None:
        if box != self._box:
            self.prepareGeometryChange()
            self._box = QRectF(box)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return self._box
