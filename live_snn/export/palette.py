"""The colours live_snn draws with, in one place so the exported video and the GUI agree.

Stored as RGB (what Qt and pyqtgraph take); OpenCV wants BGR, hence :func:`bgr`. Qt-free, so
the GUI may import it from here.
"""

from __future__ import annotations

import colorsys

RGB = tuple[int, int, int]

EVENT_BACKGROUND_RGB: RGB = (0, 0, 0)
ON_EVENT_RGB: RGB = (255, 96, 32)     # warm orange-red: brightness increased (p = 1)
OFF_EVENT_RGB: RGB = (32, 176, 255)   # cyan-blue: brightness decreased (p = 0)
PANEL_BACKGROUND_RGB: RGB = (28, 28, 32)
TEXT_RGB: RGB = (235, 235, 235)
DIM_TEXT_RGB: RGB = (150, 150, 158)
MATCH_RGB: RGB = (96, 210, 96)        # ground truth agrees with the prediction
MISMATCH_RGB: RGB = (235, 80, 80)

# Tableau 10 plus two, so the eleven DVS128 Gesture classes each get their own colour.
_CLASS_RGB: tuple[RGB, ...] = (
    (78, 121, 167), (242, 142, 43), (225, 87, 89), (118, 183, 178), (89, 161, 79),
    (237, 201, 72), (176, 122, 161), (255, 157, 167), (156, 117, 95), (186, 176, 172),
    (148, 103, 189), (23, 190, 207),
)


def class_colors_rgb(num_classes: int) -> list[RGB]:
    """One distinct colour per class: the fixed table first, then evenly spaced hues."""
    if num_classes <= len(_CLASS_RGB):
        return list(_CLASS_RGB[:num_classes])
    colors = list(_CLASS_RGB)
    extra = num_classes - len(colors)
    for i in range(extra):
        r, g, b = colorsys.hsv_to_rgb((i + 0.5) / extra, 0.65, 0.95)
        colors.append((round(r * 255), round(g * 255), round(b * 255)))
    return colors


def bgr(rgb: RGB) -> RGB:
    return (rgb[2], rgb[1], rgb[0])
