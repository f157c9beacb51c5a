"""Compose one annotated video frame (BGR uint8, OpenCV's layout) from plain NumPy inputs.

Layout, fixed for a whole video so every frame has the same size::

    +---------------------------------------------------------------+
    | t 1.230-1.240 s   bin 123   812 events               title    |  header
    +------------------------------+--------------------------------+
    |                              | prediction                     |
    |  the bin's events, ON/OFF    | right hand wave                |
    |  colours on black, upscaled  | confidence 87.3%               |
    |  nearest-neighbour           | truth: right hand wave         |
    |                              | class bars (smoothed, raw tick)|
    +------------------------------+--------------------------------+
    | attention gate of <layer>: channels (y) x last T steps (x)    |  gate strip
    +---------------------------------------------------------------+

Hershey fonts only draw ASCII, so every string drawn here is made ASCII first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from live_snn.export.palette import (
    DIM_TEXT_RGB,
    EVENT_BACKGROUND_RGB,
    MATCH_RGB,
    MISMATCH_RGB,
    OFF_EVENT_RGB,
    ON_EVENT_RGB,
    PANEL_BACKGROUND_RGB,
    TEXT_RGB,
    bgr,
    class_colors_rgb,
)

FONT = cv2.FONT_HERSHEY_SIMPLEX
GATE_COLORMAP = cv2.COLORMAP_INFERNO   # the GUI's attention heatmap uses inferno too


@dataclass(frozen=True)
class RenderStyle:
    event_panel_px: int = 384          # target long side of the event image (integer upscale)
    side_panel_width: int = 380
    header_height: int = 34
    bar_row_height: int = 24
    gate_strip_height: int = 128       # heatmap height; the caption row comes on top
    gate_steps: int = 20               # T steps shown in the gate strip
    saturation_events: float = 1.0     # brightness 1 - exp(-events / this), as in the GUI
    font_scale: float = 0.5
    margin: int = 10

    def __post_init__(self) -> None:
        for name in ("event_panel_px", "side_panel_width", "bar_row_height",
                     "gate_strip_height", "gate_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"RenderStyle.{name} must be >= 1, got {getattr(self, name)}")
        if not self.saturation_events > 0:
            raise ValueError(
                f"RenderStyle.saturation_events must be > 0, got {self.saturation_events}"
            )


@dataclass(frozen=True)
class FrameContent:
    """What one frame shows; times are seconds since the recording start."""

    counts: np.ndarray                          # [2, H, W] events per pixel, ch 0 OFF, ch 1 ON
    probabilities: np.ndarray                   # [K] smoothed class probabilities (the bars)
    label: int                                  # predicted class index
    confidence: float
    bin_index: int
    t_start_s: float
    t_end_s: float
    events: int | None = None                   # events in the bin; None: counts.sum()
    raw_probabilities: np.ndarray | None = None  # [K] this step alone, drawn as a tick per bar
    ground_truth: int = -1                      # class index, -1 when the recording has none
    uncertain: bool = False
    gate_strip: np.ndarray | None = None        # [n <= T, C] gate of the last n steps, oldest first


def events_to_bgr(counts: np.ndarray, saturation: float = 1.0) -> np.ndarray:
    """[2, H, W] per-polarity counts -> [H, W, 3] uint8 BGR on black, as the GUI's event view
    draws them: brightness ``1 - exp(-total / saturation)`` from the pixel's total count, hue
    the ON (orange-red) / OFF (cyan-blue) mix, so a pixel that fired both ways shows between
    the two colours instead of washing out to white."""
    counts = np.asarray(counts, dtype=np.float32)
    if counts.ndim != 3 or counts.shape[0] != 2:
        raise ValueError(f"counts must have shape [2, H, W], got {list(counts.shape)}")
    _, height, width = counts.shape
    image = np.empty((height * width, 3), dtype=np.uint8)
    image[:] = bgr(EVENT_BACKGROUND_RGB)
    total = (counts[0] + counts[1]).reshape(-1)
    lit = np.flatnonzero(total)               # a bin lights a few % of the pixels: colour those
    if lit.size:
        off = counts[0].reshape(-1)[lit]
        on = counts[1].reshape(-1)[lit]
        scale = -np.expm1(-total[lit] / saturation) / total[lit]   # (1 - exp(-total/s)) / total
        colors = ((off * scale)[:, None] * np.asarray(bgr(OFF_EVENT_RGB), np.float32)
                  + (on * scale)[:, None] * np.asarray(bgr(ON_EVENT_RGB), np.float32))
        image[lit] = np.clip(np.round(colors), 0, 255).astype(np.uint8)
    return image.reshape(height, width, 3)


def gate_heatmap(gate_strip: np.ndarray | None, steps: int, width: int, height: int,
                 fill_bgr: tuple[int, int, int] = bgr(PANEL_BACKGROUND_RGB)) -> np.ndarray:
    """[n <= steps, C] gate values in [0, 1] -> [height, width, 3] uint8 heatmap, time on x
    (newest at the right, crisp columns), channel 0 at the top; steps not seen yet are
    ``fill_bgr``."""
    out = np.empty((height, width, 3), dtype=np.uint8)
    out[:] = fill_bgr
    if gate_strip is None or len(gate_strip) == 0:
        return out
    gate = np.asarray(gate_strip, dtype=np.float32)
    if gate.ndim != 2:
        raise ValueError(f"gate strip must have shape [steps, channels], got {list(gate.shape)}")
    gate = gate[-steps:]
    n, channels = gate.shape
    values = np.clip(np.nan_to_num(gate.T), 0.0, 1.0)           # [C, n]
    # Averaging keeps every channel's contribution when there are more channels than rows.
    interpolation = cv2.INTER_AREA if channels > height else cv2.INTER_NEAREST
    values = cv2.resize(values, (n, height), interpolation=interpolation).reshape(height, n)
    colored = cv2.applyColorMap(np.round(values * 255).astype(np.uint8), GATE_COLORMAP)
    column_step = np.arange(width) * steps // width           # which of the T steps a column shows
    first = steps - n                                         # steps before the first one seen
    # column_step is sorted: the seen steps are the columns from x0 on, and repeating each
    # step's column is one block copy per step (no per-pixel fancy indexing).
    x0 = int(np.searchsorted(column_step, first))
    widths = np.bincount(column_step[x0:] - first, minlength=n)
    out[:, x0:] = np.repeat(colored, widths, axis=1)
    return out


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")


def _text_width(text: str, scale: float, thickness: int) -> int:
    (w, _), _ = cv2.getTextSize(text, FONT, scale, thickness)
    return w


def _fit(text: str, max_width: int, scale: float, thickness: int = 1) -> str:
    """Shorten ``text`` with '..' until it fits ``max_width`` pixels."""
    text = _ascii(text)
    if _text_width(text, scale, thickness) <= max_width:
        return text
    while text and _text_width(text + "..", scale, thickness) > max_width:
        text = text[:-1]
    return text + ".."


def _put(image: np.ndarray, text: str, org: tuple[int, int], scale: float,
         color_rgb: tuple[int, int, int], thickness: int = 1) -> None:
    cv2.putText(image, text, org, FONT, scale, bgr(color_rgb), thickness, cv2.LINE_AA)


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


class FrameRenderer:
    """Renders frames of one video: the layout (sizes, class names, static panels) is computed
    once here; :meth:`render` is a pure function of its :class:`FrameContent`."""

    def __init__(
        self,
        frame_shape: tuple[int, int],
        class_names: Sequence[str],
        *,
        gate_layer: str | None = None,
        title: str = "",
        style: RenderStyle | None = None,
    ):
        self.style = style = style or RenderStyle()
        self.frame_shape = (int(frame_shape[0]), int(frame_shape[1]))  # H, W of the counts
        self.class_names = tuple(class_names)
        if not self.class_names:
            raise ValueError("class_names must not be empty")
        self.gate_layer = gate_layer
        self.title = title
        self.class_colors = class_colors_rgb(len(self.class_names))
        h, w = self.frame_shape
        self.scale = max(1, style.event_panel_px // max(h, w))
        self.event_size = (w * self.scale, h * self.scale)
        fs, m = style.font_scale, style.margin
        self._line = round(34 * fs) + 6                       # height of one text line
        self._summary_height = m + round(self._line * 1.2) + round(self._line * 1.6) + 2 * self._line
        # Text baselines of the summary: predicted label, confidence, ground truth.
        self.label_y = style.header_height + m + self._line - 6 + round(self._line * 1.4)
        self.confidence_y = self.label_y + round(self._line * 1.2)
        self.truth_y = self.confidence_y + self._line
        side_needed = self._summary_height + len(self.class_names) * style.bar_row_height + m
        self.body_height = max(self.event_size[1], side_needed)
        self.side_x = self.event_size[0]
        self.strip_y = style.header_height + self.body_height
        self.strip_caption = self._line + 4 if gate_layer is not None else 0
        strip = self.strip_caption + style.gate_strip_height + self._line if gate_layer is not None else 0
        # Even sizes (multiples of 8) keep every codec happy.
        self.size = (
            _round_up(self.side_x + style.side_panel_width, 8),
            _round_up(self.strip_y + strip, 8),
        )
        self._bar_x0 = self.side_x + m + round(self.style.side_panel_width * 0.42)
        self._bar_x1 = self.size[0] - m - _text_width("100%", fs, 1) - 6
        self._names = [
            _fit(name, self._bar_x0 - self.side_x - 2 * m, fs) for name in self.class_names
        ]
        self._background = self._static_background()

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    def _static_background(self) -> np.ndarray:
        style, m, fs = self.style, self.style.margin, self.style.font_scale
        image = np.empty((self.height, self.width, 3), dtype=np.uint8)
        image[:] = bgr(PANEL_BACKGROUND_RGB)
        ew, eh = self.event_size
        image[style.header_height:style.header_height + eh, :ew] = bgr(EVENT_BACKGROUND_RGB)
        cv2.line(image, (0, style.header_height - 1), (self.width, style.header_height - 1),
                 bgr(DIM_TEXT_RGB), 1)
        if self.title:
            title = _fit(self.title, round(self.width * 0.42), fs)
            x = self.width - m - _text_width(title, fs, 1)
            _put(image, title, (x, style.header_height - 11), fs, DIM_TEXT_RGB)
        _put(image, "prediction", (self.side_x + m, style.header_height + m + self._line - 6),
             fs, DIM_TEXT_RGB)
        if self.gate_layer is not None:
            caption = (f"attention gate of {self.gate_layer}: channels (y) x last "
                       f"{style.gate_steps} steps (x, newest at right)")
            y = self.strip_y + self._line
            _put(image, _fit(caption, self.width - 2 * m - 60, fs), (m, y), fs, DIM_TEXT_RGB)
            self._draw_colorbar(image)
        return image

    def _heatmap_box(self) -> tuple[int, int, int, int]:
        m = self.style.margin
        x0, y0 = m, self.strip_y + self.strip_caption
        return x0, y0, self.width - m - 48, y0 + self.style.gate_strip_height

    def _draw_colorbar(self, image: np.ndarray) -> None:
        _, y0, x1, y1 = self._heatmap_box()
        ramp = np.linspace(255, 0, y1 - y0).astype(np.uint8)[:, None].repeat(10, axis=1)
        image[y0:y1, x1 + 8:x1 + 18] = cv2.applyColorMap(ramp, GATE_COLORMAP)
        fs = self.style.font_scale * 0.8
        _put(image, "1", (x1 + 22, y0 + 10), fs, DIM_TEXT_RGB)
        _put(image, "0", (x1 + 22, y1), fs, DIM_TEXT_RGB)
        x0 = self._heatmap_box()[0]
        y = y1 + self._line - 4
        _put(image, f"t-{self.style.gate_steps - 1}", (x0, y), fs, DIM_TEXT_RGB)
        _put(image, "now", (x1 - _text_width("now", fs, 1), y), fs, DIM_TEXT_RGB)

    def render(self, content: FrameContent) -> np.ndarray:
        """One BGR uint8 frame of shape ``[height, width, 3]``."""
        counts = np.asarray(content.counts)
        if counts.shape != (2, *self.frame_shape):
            raise ValueError(
                f"counts shape {list(counts.shape)} does not match the renderer's "
                f"[2, {self.frame_shape[0]}, {self.frame_shape[1]}]"
            )
        probs = np.asarray(content.probabilities, dtype=np.float32).reshape(-1)
        if probs.shape[0] != len(self.class_names):
            raise ValueError(
                f"{probs.shape[0]} probabilities for {len(self.class_names)} class names"
            )
        image = self._background.copy()
        self._draw_events(image, counts)
        self._draw_header(image, content, counts)
        self._draw_summary(image, content)
        self._draw_bars(image, probs, content)
        if self.gate_layer is not None:
            x0, y0, x1, y1 = self._heatmap_box()
            image[y0:y1, x0:x1] = gate_heatmap(
                content.gate_strip, self.style.gate_steps, x1 - x0, y1 - y0
            )
        return image

    def _draw_events(self, image: np.ndarray, counts: np.ndarray) -> None:
        small = events_to_bgr(counts, self.style.saturation_events)
        ew, eh = self.event_size
        y0 = self.style.header_height
        image[y0:y0 + eh, :ew] = cv2.resize(small, (ew, eh), interpolation=cv2.INTER_NEAREST)

    def _draw_header(self, image: np.ndarray, content: FrameContent, counts: np.ndarray) -> None:
        events = int(counts.sum()) if content.events is None else int(content.events)
        text = (f"t {content.t_start_s:.3f}-{content.t_end_s:.3f} s   "
                f"bin {content.bin_index}   {events} events")
        fs, m = self.style.font_scale * 1.1, self.style.margin
        baseline = self.style.header_height - 11
        _put(image, text, (m, baseline), fs, TEXT_RGB, 1)
        x = m + _text_width(text, fs, 1) + 16
        _put(image, "ON", (x, baseline), fs, ON_EVENT_RGB, 1)
        _put(image, "OFF", (x + _text_width("ON ", fs, 1), baseline), fs, OFF_EVENT_RGB, 1)

    def _draw_summary(self, image: np.ndarray, content: FrameContent) -> None:
        fs, m = self.style.font_scale, self.style.margin
        x = self.side_x + m
        width = self.style.side_panel_width - 2 * m
        label = int(content.label)
        if 0 <= label < len(self.class_names):
            name, color = self.class_names[label], self.class_colors[label]
        else:
            name, color = f"class {label}", TEXT_RGB
        _put(image, _fit(name, width, fs * 1.6, 2), (x, self.label_y), fs * 1.6, color, 2)
        confidence = f"confidence {100 * content.confidence:.1f}%"
        if content.uncertain:
            confidence += "  (uncertain)"
        _put(image, confidence, (x, self.confidence_y), fs,
             DIM_TEXT_RGB if content.uncertain else TEXT_RGB)
        if content.ground_truth >= 0:
            truth = content.ground_truth
            truth_name = (self.class_names[truth] if truth < len(self.class_names)
                          else f"class {truth}")
            _put(image, _fit(f"truth: {truth_name}", width, fs), (x, self.truth_y), fs,
                 MATCH_RGB if truth == label else MISMATCH_RGB)

    def _draw_bars(self, image: np.ndarray, probs: np.ndarray, content: FrameContent) -> None:
        style, fs, m = self.style, self.style.font_scale, self.style.margin
        row = style.bar_row_height
        top = style.header_height + self._summary_height
        x0, x1 = self._bar_x0, self._bar_x1
        span = x1 - x0
        filled = np.round(np.clip(probs, 0, 1) * span).astype(int)
        raw = (None if content.raw_probabilities is None
               else np.round(np.clip(np.asarray(content.raw_probabilities).reshape(-1), 0, 1) * span))
        for k, name in enumerate(self._names):  # one row per class (K ~ 10), not per event
            y = top + k * row
            chosen = k == content.label
            _put(image, name, (self.side_x + m, y + row - 8), fs, TEXT_RGB if chosen else DIM_TEXT_RGB)
            cv2.rectangle(image, (x0, y + 4), (x1, y + row - 4), (52, 52, 56), -1)
            if filled[k] > 0:
                cv2.rectangle(image, (x0, y + 4), (x0 + int(filled[k]), y + row - 4),
                              bgr(self.class_colors[k]), -1)
            if raw is not None:
                tick = x0 + int(raw[k])
                cv2.line(image, (tick, y + 2), (tick, y + row - 2), bgr(TEXT_RGB), 2)
            _put(image, f"{100 * probs[k]:.0f}%", (x1 + 6, y + row - 8), fs,
                 TEXT_RGB if chosen else DIM_TEXT_RGB)


def render_frame(
    content: FrameContent,
    class_names: Sequence[str],
    *,
    gate_layer: str | None = None,
    title: str = "",
    style: RenderStyle | None = None,
) -> np.ndarray:
    """Render a single frame; for a video build one :class:`FrameRenderer` and reuse it."""
    counts_shape = np.asarray(content.counts).shape
    renderer = FrameRenderer(counts_shape[1:], class_names, gate_layer=gate_layer, title=title,
                             style=style)
    return renderer.render(content)
