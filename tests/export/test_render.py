"""Frame composition on synthetic arrays: sizes, colours, crisp upscaling, bars, gate strip."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from live_snn.export.palette import (
    MATCH_RGB,
    MISMATCH_RGB,
    OFF_EVENT_RGB,
    ON_EVENT_RGB,
    PANEL_BACKGROUND_RGB,
    bgr,
    class_colors_rgb,
)
from live_snn.export.render import (
    GATE_COLORMAP,
    FrameContent,
    FrameRenderer,
    RenderStyle,
    events_to_bgr,
    gate_heatmap,
    render_frame,
)

CLASSES = ("clap", "wave", "roll", "drums")


def content(**overrides) -> FrameContent:
    counts = np.zeros((2, 32, 32), dtype=np.float32)
    counts[1, 5, 7] = 2.0
    counts[0, 20, 11] = 1.0
    values = dict(
        counts=counts,
        probabilities=np.array([0.1, 0.6, 0.2, 0.1], dtype=np.float32),
        label=1,
        confidence=0.6,
        bin_index=7,
        t_start_s=0.07,
        t_end_s=0.08,
    )
    values.update(overrides)
    return FrameContent(**values)


def test_events_to_bgr_colours_each_polarity_and_leaves_empty_pixels_black():
    counts = np.zeros((2, 4, 5), dtype=np.float32)
    counts[1, 0, 0] = 20      # ON only, saturated
    counts[0, 1, 2] = 20      # OFF only, saturated
    counts[1, 3, 4] = 1       # a single ON event is still clearly visible
    counts[:, 2, 1] = 10      # both: between the two colours, not white
    image = events_to_bgr(counts, saturation=1.0)
    assert image.shape == (4, 5, 3) and image.dtype == np.uint8
    np.testing.assert_allclose(image[0, 0], bgr(ON_EVENT_RGB), atol=1)
    np.testing.assert_allclose(image[1, 2], bgr(OFF_EVENT_RGB), atol=1)
    np.testing.assert_allclose(image[3, 4], np.array(bgr(ON_EVENT_RGB)) * (1 - np.exp(-1)), atol=1)
    mixed = (np.array(bgr(ON_EVENT_RGB)) + np.array(bgr(OFF_EVENT_RGB))) / 2
    np.testing.assert_allclose(image[2, 1], mixed, atol=1)
    assert image[0, 0, 2] > image[0, 0, 0] and image[1, 2, 0] > image[1, 2, 2]  # BGR order
    mask = np.zeros((4, 5), dtype=bool)
    mask[0, 0] = mask[1, 2] = mask[3, 4] = mask[2, 1] = True
    assert not image[~mask].any()


def test_events_to_bgr_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match=r"\[2, H, W\].*\[3, 4, 4\]"):
        events_to_bgr(np.zeros((3, 4, 4)))


def test_frame_size_is_fixed_even_and_independent_of_content():
    renderer = FrameRenderer((32, 32), CLASSES, gate_layer="blocks.3.tcja")
    a = renderer.render(content())
    b = renderer.render(content(counts=np.full((2, 32, 32), 5.0, np.float32), label=3,
                                gate_strip=np.random.default_rng(0).random((20, 64)),
                                ground_truth=2))
    assert a.shape == b.shape == (renderer.height, renderer.width, 3)
    assert a.dtype == np.uint8
    assert renderer.width % 8 == 0 and renderer.height % 8 == 0


def test_render_is_pure():
    renderer = FrameRenderer((32, 32), CLASSES, gate_layer="g")
    c = content(gate_strip=np.full((5, 16), 0.5, np.float32))
    np.testing.assert_array_equal(renderer.render(c), renderer.render(c))
    np.testing.assert_array_equal(renderer.render(c), render_frame(c, CLASSES, gate_layer="g"))


def test_events_are_upscaled_nearest_neighbour_into_crisp_blocks():
    style = RenderStyle(event_panel_px=256)
    renderer = FrameRenderer((32, 32), CLASSES, style=style)
    assert renderer.scale == 8
    c = content()
    image = renderer.render(c)
    y0, s = style.header_height, renderer.scale
    panel = image[y0:y0 + 32 * s, :32 * s]
    expected = np.repeat(np.repeat(events_to_bgr(c.counts, style.saturation_events), s, 0), s, 1)
    np.testing.assert_array_equal(panel, expected)


def test_time_and_bin_index_change_the_header_only():
    renderer = FrameRenderer((32, 32), CLASSES)
    a = renderer.render(content(bin_index=7))
    b = renderer.render(content(bin_index=8))
    header = renderer.style.header_height
    assert (a[:header] != b[:header]).any()
    np.testing.assert_array_equal(a[header:], b[header:])


def _bar_pixels(image: np.ndarray, color_rgb) -> int:
    return int(np.all(image == np.array(bgr(color_rgb), np.uint8), axis=-1).sum())


def test_class_bars_grow_with_probability_in_the_class_colour():
    renderer = FrameRenderer((32, 32), CLASSES)
    colors = class_colors_rgb(len(CLASSES))
    low = renderer.render(content(probabilities=np.array([0.1, 0.6, 0.2, 0.1])))
    high = renderer.render(content(probabilities=np.array([0.9, 0.05, 0.03, 0.02])))
    side = slice(renderer.side_x, None)
    low_px, high_px = _bar_pixels(low[:, side], colors[0]), _bar_pixels(high[:, side], colors[0])
    assert low_px > 0
    assert high_px == pytest.approx(9 * low_px, rel=0.15)


def test_ground_truth_is_shown_green_when_right_red_when_wrong_and_not_at_all_without():
    renderer = FrameRenderer((32, 32), CLASSES)
    none = renderer.render(content())

    def truth_pixels(image, rgb):
        # Only what the truth line added, so class colours elsewhere do not count.
        added = (image != none).any(axis=-1)
        diff = np.abs(image[added].astype(int) - np.array(bgr(rgb))).max(axis=-1)
        return int((diff < 40).sum())

    right = renderer.render(content(ground_truth=1))
    wrong = renderer.render(content(ground_truth=2))
    assert truth_pixels(right, MATCH_RGB) > 20 and truth_pixels(right, MISMATCH_RGB) == 0
    assert truth_pixels(wrong, MISMATCH_RGB) > 20 and truth_pixels(wrong, MATCH_RGB) == 0
    np.testing.assert_array_equal(none, renderer.render(content(ground_truth=-1)))


def test_render_rejects_inputs_that_do_not_match_the_layout():
    renderer = FrameRenderer((32, 32), CLASSES)
    with pytest.raises(ValueError, match=r"counts shape \[2, 16, 16\].*\[2, 32, 32\]"):
        renderer.render(content(counts=np.zeros((2, 16, 16))))
    with pytest.raises(ValueError, match="3 probabilities for 4 class names"):
        renderer.render(content(probabilities=np.ones(3) / 3))


def test_gate_heatmap_puts_the_newest_step_right_and_leaves_unseen_steps_blank():
    gate = np.zeros((2, 8), dtype=np.float32)
    gate[-1] = 1.0                                # newest step all open
    heat = gate_heatmap(gate, steps=4, width=40, height=16)
    fill = np.array(bgr(PANEL_BACKGROUND_RGB), np.uint8)
    ones = cv2.applyColorMap(np.array([[255]], np.uint8), GATE_COLORMAP)[0, 0]
    zeros = cv2.applyColorMap(np.array([[0]], np.uint8), GATE_COLORMAP)[0, 0]
    assert np.all(heat[:, :20] == fill)           # steps t-3 and t-2 not seen yet
    assert np.all(heat[:, 20:30] == zeros)
    assert np.all(heat[:, 30:] == ones)


def test_gate_heatmap_averages_channels_when_there_are_more_than_rows():
    gate = np.tile(np.array([0.0, 1.0], np.float32), 64)[None]   # 128 channels alternate 0/1
    heat = gate_heatmap(gate, steps=1, width=4, height=16)
    mid = cv2.applyColorMap(np.array([[128]], np.uint8), GATE_COLORMAP)[0, 0]
    assert np.abs(heat.astype(int) - mid.astype(int)).max() <= 3


def test_gate_strip_is_drawn_only_with_a_gate_layer():
    gate = np.ones((20, 16), np.float32)
    with_gate = FrameRenderer((32, 32), CLASSES, gate_layer="blocks.4.tcja")
    without = FrameRenderer((32, 32), CLASSES)
    assert with_gate.height > without.height
    image = with_gate.render(content(gate_strip=gate))
    ones = cv2.applyColorMap(np.array([[255]], np.uint8), GATE_COLORMAP)[0, 0]
    strip = image[with_gate.strip_y:]
    assert int(np.all(strip == ones, axis=-1).sum()) > 50 * with_gate.style.gate_strip_height


def test_long_class_names_are_shortened_to_fit():
    names = ("a very long class name that cannot possibly fit in the panel",) + CLASSES[1:]
    renderer = FrameRenderer((32, 32), names)
    assert renderer._names[0].endswith("..")
    renderer.render(content())
