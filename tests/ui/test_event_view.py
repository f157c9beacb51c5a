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
    x, y = view._rate_curve.getData()
    np.testing.assert_allclose(y, [0, 100, 200, 100, 0])
    assert view._rate_top == 500                          # 1.2 x 200, rounded up to 5 x 10^2
    view.set_rate(np.arange(-4, 1) * 0.01, np.array([0, 10, 20, 10, 0.0]), 10.0)
    assert view._rate_top == 500                          # the scale does not shrink
