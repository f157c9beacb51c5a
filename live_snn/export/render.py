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
GATE_COLORMAP = cv2.COLORMAP_VIRIDIS
# A pixel with any event is drawn at least this bright, so single events stay visible.
_MIN_EVENT_LEVEL = 0.4


@dataclass(frozen=True)
class RenderStyle:
    event_panel_px: int = 384          # target long side of the event image (integer upscale)
    side_panel_width: int = 380
    header_height: int = 34
    bar_row_height: int = 24
    gate_strip_height: int = 128       # heatmap height; the caption row comes on top
    gate_steps: int = 20               # T steps shown in the gate strip
    full_brightness_count: float = 3.0  # events per pixel drawn at full colour
    font_scale: float = 0.5
    margin: int = 10

    def __post_init__(self) -> None:
        for name in ("event_panel_px", "side_panel_width", "bar_row_height",
                     "gate_strip_height", "gate_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"RenderStyle.{name} must be >= 1, got {getattr(self, name)}")
        if not self.full_brightness_count > 0:
            raise ValueError(
                f"RenderStyle.full_brightness_count must be > 0, got {self.full_brightness_count}"
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


def events_to_bgr(counts: np.ndarray, full_brightness_count: float = 3.0) -> np.ndarray:
    """[2, H, W] per-polarity counts -> [H, W, 3] uint8: OFF cyan-blue, ON orange-red, both
    added where a pixel saw both, black where it saw none."""
    counts = np.asarray(counts, dtype=np.float32)
    if counts.ndim != 3 or counts.shape[0] != 2:
        raise ValueError(f"counts must have shape [2, H, W], got {list(counts.shape)}")
    level = np.where(
        counts > 0,
        _MIN_EVENT_LEVEL + (1 - _MIN_EVENT_LEVEL) * np.minimum(counts / full_brightness_count, 1),
        0.0,
    ).astype(np.float32)
    off_bgr = np.asarray(bgr(OFF_EVENT_RGB), dtype=np.float32)
    on_bgr = np.asarray(bgr(ON_EVENT_RGB), dtype=np.float32)
    image = level[0, :, :, None] * off_bgr + level[1, :, :, None] * on_bgr
    background = np.asarray(bgr(EVENT_BACKGROUND_RGB), dtype=np.float32)
    image = np.where(level.any(axis=0)[:, :, None], image, background)
    return np.clip(image, 0, 255).astype(np.uint8)


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
    column_step = np.arange(width) * steps // width           # which of the T steps a column shows
    first = steps - n                                         # steps before the first one seen
    shown = column_step >= first
    values = np.clip(np.nan_to_num(gate[column_step[shown] - first].T), 0.0, 1.0)  # [C, cols]
    # Averaging keeps every channel's contribution when there are more channels than rows.
    interpolation = cv2.INTER_AREA if channels > height else cv2.INTER_NEAREST
    values = cv2.resize(values, (values.shape[1], height), interpolation=interpolation)
    levels = np.round(values * 255).astype(np.uint8)
    out[:, shown] = cv2.applyColorMap(levels, GATE_COLORMAP)
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
        small = events_to_bgr(counts, self.style.full_brightness_count)
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
        fs, m, line = self.style.font_scale, self.style.margin, self._line
        x = self.side_x + m
        width = self.style.side_panel_width - 2 * m
        y = self.style.header_height + m + line - 6 + round(line * 1.4)
        label = int(content.label)
        if 0 <= label < len(self.class_names):
            name, color = self.class_names[label], self.class_colors[label]
        else:
            name, color = f"class {label}", TEXT_RGB
        _put(image, _fit(name, width, fs * 1.6, 2), (x, y), fs * 1.6, color, 2)
        y += round(line * 1.2)
        confidence = f"confidence {100 * content.confidence:.1f}%"
        if content.uncertain:
            confidence += "  (uncertain)"
        _put(image, confidence, (x, y), fs, DIM_TEXT_RGB if content.uncertain else TEXT_RGB)
        if content.ground_truth >= 0:
            y += line
            truth = content.ground_truth
            truth_name = (self.class_names[truth] if truth < len(self.class_names)
                          else f"class {truth}")
            _put(image, _fit(f"truth: {truth_name}", width, fs), (x, y), fs,
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
