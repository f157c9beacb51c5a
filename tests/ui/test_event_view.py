from __future__ import annotations

import numpy as np
import pytest

from live_snn_ui.event_view import EventView, render_events
from live_snn_ui.theme import OFF_EVENT_RGB, ON_EVENT_RGB


def test_render_colours_on_warm_off_cool_on_black():
    counts = np.zeros((2, 3, 4), dtype=np.float32)
    counts[1, 0, 0] = 5     # ON
    counts[0, 2, 3] = 5     # OFF
    rgb = render_events(counts)
    assert rgb.shape == (3, 4, 3) and rgb.dtype == np.uint8
    assert (rgb[1, 1] == 0).all()                                   # no event: black
    on, off = rgb[0, 0].astype(int), rgb[2, 3].astype(int)
    np.testing.assert_allclose(on, ON_EVENT_RGB, atol=2)
    np.testing.assert_allclose(off, OFF_EVENT_RGB, atol=2)
    assert on[0] > on[2] and off[2] > off[0]                        # warm vs cool


def test_both_polarities_mix_hues_instead_of_turning_white():
    counts = np.zeros((2, 1, 1), dtype=np.float32)
    counts[:, 0, 0] = 4
    mixed = render_events(counts)[0, 0].astype(float)
    expected = (np.array(ON_EVENT_RGB) + np.array(OFF_EVENT_RGB)) / 2 * (1 - np.exp(-8))
    np.testing.assert_allclose(mixed, expected, atol=1.5)


def test_more_events_are_brighter_but_saturate():
    counts = np.zeros((2, 1, 3), dtype=np.float32)
    counts[1, 0] = [1, 3, 100]
    red = render_events(counts)[0, :, 0].astype(int)
    assert red[0] < red[1] <= red[2] <= 255


def test_render_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"\[2, H, W\]"):
        render_events(np.zeros((3, 4, 4)))


def test_view_shows_newest_frame_and_trail_decays(themed_app):
    view = EventView()
    view.set_geometry((8, 6), (0, 0, 8, 6), "model sees 8x6")
    old = np.zeros((2, 6, 8), np.float32)
    old[1, 1, 1] = 4
    new = np.zeros((2, 6, 8), np.float32)
    new[0, 4, 6] = 4
    view.push_frames(np.stack([old, new]), 10_000, sensor=True)
    shown = view.image_rgb()
    assert shown.shape == (6, 8, 3)
    assert shown[1, 1].sum() == 0 and shown[4, 6].sum() > 0         # trail off: newest only
    view.decay_box.setChecked(True)
    view.decay_ms.setValue(20)
    view.push_frames(np.stack([old, new]), 10_000, sensor=True)
    trail = view.image_rgb()
    assert 0 < trail[1, 1].sum() < trail[4, 6].sum()                # the older bin has faded
    view.show_frame(old, sensor=True)                                # a selected step: no trail
    assert view.image_rgb()[4, 6].sum() == 0 and view.image_rgb()[1, 1].sum() > 0


def test_rate_curve(themed_app):
    view = EventView()
    view.set_rate(np.arange(-4, 1) * 0.01, np.array([0, 100, 200, 100, 0.0]), 10.0)
    x, y = view.rate_line()
    np.testing.assert_allclose(y, [0, 100, 200, 100, 0])
    assert view.rate_axis_top() == 500                    # 1.2 x 200, rounded up to 5 x 10^2
    view.set_rate(np.arange(-4, 1) * 0.01, np.array([0, 10, 20, 10, 0.0]), 10.0)
    assert view.rate_axis_top() == 500                    # the scale does not shrink


def test_the_pixmap_shows_each_rendered_image_in_place(themed_app):
    from PySide6.QtCore import QRectF

    view = EventView()
    view.set_geometry((8, 6), (2, 1, 4, 3), "model sees 4x3")
    assert (view.pixmap_rgb() == 0).all()
    first = np.zeros((2, 6, 8), np.float32)
    first[1, 0, 0] = 5      # ON, top left
    first[0, 5, 7] = 5      # OFF, bottom right
    view.push_frames(first[None], 10_000, sensor=True)
    shown = view.pixmap_rgb()
    np.testing.assert_array_equal(shown, render_events(first))   # Qt's byte order, not swapped
    np.testing.assert_array_equal(shown, view.image_rgb())
    np.testing.assert_allclose(shown[0, 0], ON_EVENT_RGB, atol=2)
    np.testing.assert_allclose(shown[5, 7], OFF_EVENT_RGB, atol=2)
    # The renderer writes the next image into the same buffer: the view shows that one.
    second = np.zeros_like(first)
    second[1, 3, 4] = 5
    view.push_frames(second[None], 10_000, sensor=True)
    np.testing.assert_array_equal(view.pixmap_rgb(), render_events(second))
    assert view.image_rect() == QRectF(0, 0, 8, 6)
    # A model-resolution frame is stretched over the crop box, and back for a sensor frame.
    model = np.zeros((2, 3, 4), np.float32)
    model[1, 2, 3] = 5
    view.push_frames(model[None], 10_000, sensor=False)
    np.testing.assert_array_equal(view.pixmap_rgb(), render_events(model))
    assert view.image_rect() == QRectF(2, 1, 4, 3)
    view.show_frame(first, sensor=True)
    np.testing.assert_array_equal(view.pixmap_rgb(), render_events(first))
    assert view.image_rect() == QRectF(0, 0, 8, 6)
    view.clear_frame()
    assert (view.pixmap_rgb() == 0).all()
