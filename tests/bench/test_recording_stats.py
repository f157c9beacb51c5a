"""Statistics of event recordings: each measures what its name says, on events made to
have a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from live_snn.bench.recording_stats import STATS, density_map, isolated_mask, recording_statistics
from live_snn.events import EVENT_DTYPE


def _events(t, x, y, p) -> np.ndarray:
    ev = np.zeros(len(t), dtype=EVENT_DTYPE)
    ev["t"], ev["x"], ev["y"], ev["p"] = t, x, y, p
    return ev[np.argsort(ev["t"], kind="stable")]


def _moving_bar(darker: bool, seconds: float = 0.4) -> np.ndarray:
    """A vertical bar 6 px wide sweeping right at 200 px/s over rows 40..80: its leading edge
    gets darker (OFF) if the bar is darker than the background, brighter (ON) if lighter."""
    t_all, x_all, y_all, p_all = [], [], [], []
    for step in range(int(seconds * 1000)):  # 1 ms steps
        t = step * 1000
        lead = 20 + int(step * 0.2) + 6
        trail = lead - 6
        rows = np.arange(40, 80)
        for edge, polarity in ((lead, 0 if darker else 1), (trail, 1 if darker else 0)):
            t_all.append(np.full(rows.size, t))
            x_all.append(np.full(rows.size, edge))
            y_all.append(rows)
            p_all.append(np.full(rows.size, polarity))
    return _events(*(np.concatenate(a) for a in (t_all, x_all, y_all, p_all)))


def test_motion_polarity_tells_darker_movers_from_lighter_ones():
    darker = recording_statistics(_moving_bar(True), 0, 400_000)
    lighter = recording_statistics(_moving_bar(False), 0, 400_000)
    assert darker["motion_polarity"] < -0.9 and lighter["motion_polarity"] > 0.9
    assert darker["speed_px_s"] == pytest.approx(200, rel=0.1)
    assert darker["on_fraction"] == pytest.approx(0.5)


def test_rate_placement_and_intervals():
    rng = np.random.default_rng(0)
    n = 20_000
    t = np.sort(rng.integers(0, 2_000_000, n))
    ev = _events(t, rng.integers(10, 30, n), rng.integers(50, 70, n), rng.integers(0, 2, n))
    stats = recording_statistics(ev, 0, 2_000_000)
    assert stats["rate_kev_s"] == pytest.approx(10.0)
    assert 10 <= stats["x_p5"] < stats["x_p50"] < stats["x_p95"] <= 29
    assert 50 <= stats["y_p5"] < stats["y_p95"] <= 69
    assert stats["polarity_switch"] == pytest.approx(0.5, abs=0.03)  # random polarities
    assert 0.3 < stats["polarity_mixing"] < 0.5  # few events per block: never quite even
    assert set(stats) == {s.key for s in STATS}


def test_repeats_and_refractory_intervals():
    # One pixel: bursts of 2 events 1 µs apart, alternating polarity every 500 µs.
    starts = np.arange(0, 100_000, 500)
    t = np.concatenate([starts, starts + 1])
    p = np.concatenate([np.arange(starts.size) % 2, np.arange(starts.size) % 2])
    stats = recording_statistics(_events(t, np.full(t.size, 5), np.full(t.size, 5), p), 0, 100_000)
    assert stats["repeat_fraction"] == pytest.approx(1.0)  # every same-polarity interval is a repeat
    assert stats["refractory_us"] == pytest.approx(499, abs=1)
    assert stats["polarity_switch"] == pytest.approx(0.5, abs=0.01)


def test_isolated_events_and_hot_pixels():
    rng = np.random.default_rng(1)
    # A hot pixel at 50 Hz and scattered noise, 2 s: every event isolated.
    hot_t = np.sort(rng.integers(0, 2_000_000, 100))
    noise = rng.choice(128 * 128, 300, replace=False)
    ev = _events(np.concatenate([hot_t, np.sort(rng.integers(0, 2_000_000, 300))]),
                 np.concatenate([np.full(100, 100), noise % 128]),
                 np.concatenate([np.full(100, 10), noise // 128]), np.ones(400))
    stats = recording_statistics(ev, 0, 2_000_000)
    assert stats["hot_pixels"] == 1
    assert stats["isolated_hz"] == pytest.approx(400 / 128**2 / 2.0, rel=0.02)


def test_a_rate_beating_at_100_hz_is_a_flicker_peak():
    t = np.repeat(np.arange(0, 2_000_000, 10_000), 16) + np.tile(np.arange(16), 200)
    xy = np.tile(np.arange(16), 200)
    ev = _events(t, 60 + xy % 4, 60 + xy // 4, np.ones(t.size))
    assert recording_statistics(ev, 0, 2_000_000)["flicker_peak"] > 20
    steady = _events(np.arange(0, 2_000_000, 625), np.full(3200, 5), np.full(3200, 5), np.ones(3200))
    assert recording_statistics(steady, 0, 2_000_000)["flicker_peak"] < 5


def test_isolation_needs_a_neighbour_in_the_window_before():
    ev = _events([0, 5_000, 30_000], [10, 11, 12], [10, 10, 10], [1, 1, 1])
    assert isolated_mask(ev["t"], ev["x"], ev["y"], 128, 128).tolist() == [True, False, True]


def test_density_map_sums_to_one():
    ev = _events([0, 1, 2], [0, 0, 5], [0, 0, 7], [1, 0, 1])
    d = density_map(ev)
    assert d.shape == (128, 128) and d.sum() == pytest.approx(1.0) and d[0, 0] == pytest.approx(2 / 3)
