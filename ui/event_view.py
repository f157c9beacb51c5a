"""Event view: the current bin's events at the sensor's resolution (ON warm, OFF cool, on
black), an optional short decay trail, the region the model sees outlined, and the event rate
underneath."""

from __future__ import annotations

import math
import sys

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPixmap, QTransform
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QLabel,
    QSpinBox,
    QWidget,
)

from .panel import Once, Panel, flexible_label
from .theme import (
    CROP_RGB,
    DIM_TEXT_RGB,
    OFF_EVENT_RGB,
    ON_EVENT_RGB,
    TEXT_RGB,
    hex_color,
    make_canvas,
    style_plot,
)

# Events per pixel at which a pixel reaches 1 - 1/e of full brightness: a single event is
# already clearly visible, a busy pixel saturates instead of washing out the rest.
_SATURATION_EVENTS = 1.0
_OFF = np.asarray(OFF_EVENT_RGB, dtype=np.float32)
_ON = np.asarray(ON_EVENT_RGB, dtype=np.float32)
_INVISIBLE_EVENTS = 1e-3  # a trail this faint is below one step of 8-bit brightness
_FLUSH_EVERY = 64         # trail updates between two flushes of the invisible pixels
RATE_POINTS = 250      # most points drawn in the event-rate plot
DEFAULT_TRAIL_MS = 50  # the optional trail (off at start: the view shows the current bin)


# Qt's RGB32 pixel is the 32-bit word 0xffRRGGBB: its bytes in memory depend on the byte order.
_RGB32_RGB = (2, 1, 0) if sys.byteorder == "little" else (1, 2, 3)   # byte of R, G, B
_RGB32_PAD = 3 if sys.byteorder == "little" else 0                   # the 0xff byte


class EventRenderer:
    """``[2, H, W]`` counts (channel 0 = OFF, 1 = ON) -> an image on black, as Qt's RGB32
    pixels (``uint8 [H, W, 4]``, see :func:`rgb_of` for the RGB channels).

    Brightness follows the pixel's total count; the hue is the ON / OFF mix, so a pixel that
    fired both ways shows between the two colours instead of washing out to white.

    The window renders a sensor-sized image at every redraw: the renderer keeps its scratch
    and output arrays between calls (one set per image shape), so a redraw allocates nothing
    and stays in cache, and Qt draws the RGB32 result without converting it. The returned
    image is that buffer: the next call overwrites it."""

    def __init__(self, saturation: float = _SATURATION_EVENTS):
        self.saturation = float(saturation)
        self._buffers: dict[tuple[int, int], tuple[np.ndarray, ...]] = {}

    def render(self, counts: np.ndarray) -> np.ndarray:
        counts = np.asarray(counts)
        if counts.ndim != 3 or counts.shape[0] != 2:
            raise ValueError(f"event counts must have shape [2, H, W], got {counts.shape}")
        shape = counts.shape[1:]
        buffers = self._buffers.get(shape)
        if buffers is None:
            image = black_rgb32(*shape)
            buffers = self._buffers[shape] = (
                *(np.empty(shape, dtype=np.float32) for _ in range(4)), image,
            )
        total, scale, off_part, on_part, image = buffers
        off, on = counts[0], counts[1]
        np.add(off, on, out=total, dtype=np.float32)
        # scale = (1 - exp(-total / saturation)) / total, 0 where there is no event
        np.multiply(total, np.float32(-1.0 / self.saturation), out=scale)
        np.exp(scale, out=scale)
        np.subtract(np.float32(1.0), scale, out=scale)
        np.maximum(total, np.float32(1e-30), out=total)
        np.divide(scale, total, out=scale)
        np.multiply(off, scale, out=off_part, dtype=np.float32)
        np.multiply(on, scale, out=on_part, dtype=np.float32)
        # One colour channel at a time: [H, W] temporaries instead of [H, W, 3] ones.
        channel = total
        for c, byte in enumerate(_RGB32_RGB):
            np.multiply(off_part, _OFF[c], out=channel)
            np.multiply(on_part, _ON[c], out=scale)
            channel += scale
            np.minimum(channel, np.float32(255.0), out=channel)
            np.copyto(image[..., byte], channel, casting="unsafe")
        return image


def black_rgb32(height: int, width: int) -> np.ndarray:
    """A black image as Qt's RGB32 pixels: the pad byte must be 0xff, not 0 (Qt reads RGB32
    as 0xffRRGGBB, and may take the byte for alpha where it converts or blends)."""
    image = np.zeros((height, width, 4), dtype=np.uint8)
    image[..., _RGB32_PAD] = 255
    return image


def rgb_of(rgb32: np.ndarray) -> np.ndarray:
    """The ``[H, W, 3]`` RGB channels of RGB32 pixels ``uint8 [H, W, 4]`` (a view on a
    little-endian machine, a copy on a big-endian one)."""
    return rgb32[..., list(_RGB32_RGB)] if _RGB32_RGB != (2, 1, 0) else rgb32[..., 2::-1]


def render_events(counts: np.ndarray, *, saturation: float = _SATURATION_EVENTS) -> np.ndarray:
    """``[2, H, W]`` counts -> a new ``uint8 [H, W, 3]`` RGB image (see :class:`EventRenderer`)."""
    return np.ascontiguousarray(rgb_of(EventRenderer(saturation).render(counts)))


def _nice_ceiling(value: float) -> float:
    """The next 1 / 2 / 5 × 10^k at or above ``value`` (axis tops that read well)."""
    exponent = np.floor(np.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        if step * 10**exponent >= value:
            return float(step * 10**exponent)
    return float(10 ** (exponent + 1))


class EventView(Panel):
    """Fed frames (``[2, H, W]`` counts) by the window; knows nothing of the engine."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Events", parent)
        self._sensor_size: tuple[int, int] | None = None
        self._caption = ""
        self._crop: tuple[int, int, int, int] | None = None
        self._accumulated: np.ndarray | None = None
        self._accumulated_is_sensor = True
        self._renderer = EventRenderer()
        self._decays = 0
        self._image_rgb32 = black_rgb32(1, 1)
        self._once = Once()

        self._info = flexible_label("no source", dim=True, live=True)
        legend = QLabel(
            f"<span style='color:{hex_color(ON_EVENT_RGB)}'>■</span>&nbsp;ON &nbsp; "
            f"<span style='color:{hex_color(OFF_EVENT_RGB)}'>■</span>&nbsp;OFF"
        )
        legend.setTextFormat(Qt.TextFormat.RichText)
        legend.setToolTip("ON: brightness went up (p = 1) · OFF: it went down (p = 0)")
        self.add_header_widget(legend)
        self.decay_box = QCheckBox("trail")
        self.decay_box.setToolTip("Keep a short decaying trail of the previous bins")
        self.decay_ms = QSpinBox()
        self.decay_ms.setRange(5, 2000)
        self.decay_ms.setValue(DEFAULT_TRAIL_MS)
        self.decay_ms.setSuffix(" ms")
        self.decay_ms.setEnabled(False)
        self.decay_box.toggled.connect(self.decay_ms.setEnabled)
        self.add_header_widget(self.decay_box)
        self.add_header_widget(self.decay_ms)

        self.canvas = make_canvas()
        self._view = self.canvas.addViewBox(row=0, col=0)
        self._view.setBackgroundColor("k")
        self._view.setAspectLocked(True)
        self._view.invertY(True)  # sensor row 0 at the top, as the camera sees it
        self._view.setMouseEnabled(False, False)
        self._view.setMenuEnabled(False)
        # A plain Qt pixmap item, not a pyqtgraph ImageItem: it is drawn by Qt alone (no
        # Python, so without the GIL), from pixels already in Qt's RGB32 layout.
        self._image = QGraphicsPixmapItem()
        self._view.addItem(self._image)
        self._sensor_outline = QGraphicsRectItem()
        self._sensor_outline.setPen(pg.mkPen(hex_color(DIM_TEXT_RGB), width=1, cosmetic=True))
        self._view.addItem(self._sensor_outline)
        self._crop_outline = QGraphicsRectItem()
        self._crop_outline.setPen(
            pg.mkPen(hex_color(CROP_RGB), width=1.5, style=Qt.PenStyle.DashLine, cosmetic=True)
        )
        self._view.addItem(self._crop_outline)

        # Time relative to the shown step and a y scale that only grows: the axes stay put
        # (a scrolling axis is re-laid out and repainted at every redraw).
        self.rate_plot = style_plot(self.canvas.addPlot(row=1, col=0), left="events/s",
                                    bottom="seconds before this bin")
        self.rate_plot.setMinimumHeight(70)
        self.rate_plot.setMaximumHeight(110)
        self._rate_top = 0.0
        self._rate_curve = pg.PlotCurveItem(  # not a PlotDataItem: less Python per update
            pen=pg.mkPen(hex_color(TEXT_RGB), width=1.2),
            fillLevel=0,
            brush=pg.mkBrush(*TEXT_RGB, 40),
        )
        self.rate_plot.addItem(self._rate_curve)
        self._rate_window = 0.0
        self.rate_plot.setRange(xRange=(-10, 0), yRange=(0, 1), padding=0.02)

        self.body.addWidget(self.canvas, 1)
        self.body.addWidget(self._info)

    # -- geometry ------------------------------------------------------------------------
    def set_geometry(
        self,
        sensor_size: tuple[int, int],
        crop_box: tuple[int, int, int, int] | None,
        caption: str = "",
    ) -> None:
        """Sensor ``(width, height)``; the crop box ``(x0, y0, w, h)`` in sensor pixels that the
        model sees (None = the whole sensor); ``caption`` describes the mapping."""
        width, height = (int(v) for v in sensor_size)
        self._sensor_size = (width, height)
        self._crop = tuple(int(v) for v in crop_box) if crop_box is not None else None
        self._accumulated = None
        self._sensor_outline.setRect(QRectF(0, 0, width, height))
        x0, y0, w, h = self._crop or (0, 0, width, height)
        self._crop_outline.setRect(QRectF(x0, y0, w, h))
        self._crop_outline.setVisible(self._crop is not None)
        self._caption = caption
        self._info.setText(caption)
        self._view.setRange(QRectF(0, 0, width, height), padding=0.02)
        self._show_rgb32(black_rgb32(height, width), sensor=True)

    def set_info(self, text: str) -> None:
        """The lines under the image: the mapping caption, then ``text`` on a line of its own
        (together they do not fit the panel's width for a cropped, downscaled sensor)."""
        self._info.setText(f"{self._caption}\n{text}" if self._caption else text)

    # -- frames --------------------------------------------------------------------------
    def decay_tau_ms(self) -> float:
        """Trail time constant in ms; 0 when the trail is off."""
        return float(self.decay_ms.value()) if self.decay_box.isChecked() else 0.0

    def push_frames(self, frames: np.ndarray, dt_us: int, *, sensor: bool) -> None:
        """Show the newest of ``frames [k, 2, H, W]`` (oldest first); with the trail on, the
        earlier ones and the previous image fade out with the trail's time constant."""
        frames = np.asarray(frames)
        if frames.ndim != 4 or not len(frames):
            return
        tau_ms = self.decay_tau_ms()
        acc = self._accumulated
        if tau_ms <= 0 or acc is None or self._accumulated_is_sensor != sensor \
                or acc.shape != frames.shape[1:]:
            self._accumulate_from(frames[-1])
        else:
            per_step = np.float32(math.exp(-dt_us / (tau_ms * 1000.0)))
            # acc <- acc * a + frame, frame by frame (a handful of bins per redraw; in place,
            # no BLAS call whose thread pool would compete with the engine).
            for frame in frames:
                acc *= per_step
                acc += frame
            self._decays += 1
            if self._decays % _FLUSH_EVERY == 0:
                # A faded pixel decays on towards denormal floats, on which arithmetic is
                # several times slower: set pixels too faint to show to 0 now and then.
                acc[acc < _INVISIBLE_EVENTS] = 0.0
        self._accumulated_is_sensor = sensor
        self._show_rgb32(self._renderer.render(self._accumulated), sensor=sensor)

    def show_frame(self, frame: np.ndarray, *, sensor: bool) -> None:
        """Show exactly one bin (a selected step): no trail."""
        self._accumulate_from(np.asarray(frame))
        self._accumulated_is_sensor = sensor
        self._show_rgb32(self._renderer.render(self._accumulated), sensor=sensor)

    def _accumulate_from(self, frame: np.ndarray) -> None:
        """Restart the trail at ``frame``, reusing the trail's array when the shape allows."""
        acc = self._accumulated
        if acc is None or acc.shape != frame.shape:
            acc = self._accumulated = np.empty(frame.shape, dtype=np.float32)
        np.copyto(acc, frame)

    def clear_frame(self) -> None:
        self._accumulated = None
        if self._sensor_size:
            w, h = self._sensor_size
            self._show_rgb32(black_rgb32(h, w), sensor=True)

    def _show_rgb32(self, rgb32: np.ndarray, *, sensor: bool) -> None:
        h, w = rgb32.shape[:2]
        # No copy: on a 32-bit display the pixmap shares the array's memory (on others
        # fromImage converts, so copies). Safe because the renderer overwrites that array
        # only on this (the Qt) thread and only to show the next image, which replaces this
        # pixmap before the next paint. The QImage holds the array (PySide keeps a reference
        # to the buffer) for as long as the pixmap shows it.
        image = QImage(rgb32.data, w, h, 4 * w, QImage.Format.Format_RGB32)
        self._image.setPixmap(QPixmap.fromImage(image))
        self._image_rgb32 = rgb32
        # A model-resolution frame is stretched over the crop box it was taken from.
        x0, y0, rw, rh = (0, 0, w, h) if sensor or self._crop is None else self._crop
        if self._once.changed("rect", ((x0, y0, rw, rh), (h, w))):
            transform = QTransform()
            transform.translate(x0, y0)
            transform.scale(rw / w, rh / h)
            self._image.setTransform(transform)

    def image_rgb(self) -> np.ndarray:
        """A copy of the RGB image currently shown (``uint8 [H, W, 3]``)."""
        return np.ascontiguousarray(rgb_of(self._image_rgb32))

    def pixmap_rgb(self) -> np.ndarray:
        """The pixels of the pixmap that Qt draws, as ``uint8 [H, W, 3]`` RGB."""
        image = self._image.pixmap().toImage().convertToFormat(QImage.Format.Format_RGB888)
        h, w = image.height(), image.width()
        rows = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())
        return rows[:, : 3 * w].reshape(h, w, 3).copy()

    def image_rect(self) -> QRectF:
        """Where the image is drawn, in sensor pixels."""
        return self._image.mapRectToParent(self._image.boundingRect())

    # -- event rate ----------------------------------------------------------------------
    def set_rate(self, ago_s: np.ndarray, events_per_s: np.ndarray, window_s: float) -> None:
        """Event rate of the steps ``ago_s`` seconds before the shown one (<= 0), over a
        fixed ``window_s``-second axis. Long series are drawn as the means of runs of
        consecutive steps, at most ``RATE_POINTS`` points (a few per pixel of the plot)."""
        ago_s, rates = np.asarray(ago_s, float), np.asarray(events_per_s, float)
        group = -(-len(rates) // RATE_POINTS)
        if group > 1:
            keep = len(rates) // group * group  # the newest steps; the oldest partial run goes
            ago_s = ago_s[-keep:].reshape(-1, group).mean(axis=1)
            rates = rates[-keep:].reshape(-1, group).mean(axis=1)
        self._rate_curve.setData(ago_s, rates, connect="finite")
        peak = float(np.nanmax(rates)) if np.isfinite(rates).any() else 0.0
        item = self.rate_plot
        if peak > self._rate_top or self._rate_window != window_s:
            self._rate_top = _nice_ceiling(1.2 * max(peak, 1.0))
            self._rate_window = window_s
            item.setRange(xRange=(-window_s, 0.0), yRange=(0.0, self._rate_top), padding=0.02)

    def reset_rate(self) -> None:
        self._rate_top = 0.0

    def rate_line(self) -> tuple[np.ndarray, np.ndarray]:
        """``(seconds before the shown step, events/s)`` as drawn."""
        return self._rate_curve.getData()

    def rate_axis_top(self) -> float:
        """The top of the event-rate axis (it only grows)."""
        return self._rate_top
        self._rate_curve.setData([], [])
