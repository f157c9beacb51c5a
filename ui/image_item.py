"""An image item that Qt can draw as a plain scaled blit."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QImage

_BLIT_FORMATS = (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32_Premultiplied)


class BlitImageItem(pg.ImageItem):
    """``pg.ImageItem`` whose QImage is 32-bit (premultiplied when it has alpha).

    pyqtgraph hands Qt an RGB888 image for RGB data and an 8-bit indexed one for a heatmap
    coloured through a lookup table; Qt's raster engine converts those pixel by pixel at
    every paint (on its own thread pool, taking CPU from the engine) before scaling them
    onto the screen. Converted once per new image here, every paint is a plain scaled copy.
    Everything else (data, levels, lookup table, rect) is pyqtgraph's."""

    def render(self) -> None:
        super().render()
        image = self.qimage
        if image is not None and image.format() not in _BLIT_FORMATS:
            target = QImage.Format.Format_ARGB32_Premultiplied if image.hasAlphaChannel() \
                else QImage.Format.Format_RGB32
            self.qimage = image.convertToFormat(target)
