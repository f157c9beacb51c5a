from __future__ import annotations

import numpy as np

from live_snn.binning import BinningConfig, bin_events
from live_snn.engine.frame_cutter import FrameCutter
from live_snn.events import EventBatch

DT = 10_000


def with_gap(events: EventBatch, gap_us: int) -> EventBatch:
    second = events.events.copy()
    second["t"] += events.t_last - events.t_first + gap_us
    return EventBatch(np.concatenate([events.events, second]), events.resolution)


def test_cutter_equals_offline_binning_for_any_batching(gesture_events):
    events = with_gap(gesture_events, gap_us=2_000_000)  # 2 s of silence in the middle
    config = BinningConfig(dt_us=DT, sensor=events.resolution, model=(32, 32))
    offline = bin_events(events, config)
    rng = np.random.default_rng(0)
    cuts = np.sort(rng.choice(len(events), size=40, replace=False))
    cutter = FrameCutter(config, t0_us=events.t_first, index_offset=5, chunk_bins=16)
    frames = []
    for part in np.split(events.events, cuts):
        frames += list(cutter.push(EventBatch(part, events.resolution), arrival=None))
    frames += list(cutter.flush())
    assert [c.frame.index for c in frames] == list(range(5, 5 + len(offline)))
    np.testing.assert_array_equal(np.stack([c.frame.counts for c in frames]), offline.frames)
    assert [c.frame.n_events for c in frames] == offline.n_events.tolist()
    # every bin with events says when its newest event came in; empty bins do not
    assert all((c.arrival is None) == (c.frame.n_events == 0) for c in frames)
    assert all(c.closed_at >= c.arrival for c in frames if c.arrival is not None)


def test_a_long_gap_is_closed_a_chunk_at_a_time(gesture_events):
    events = with_gap(gesture_events, gap_us=100_000_000)  # 100 s: 10 000 empty bins
    config = BinningConfig(dt_us=DT, sensor=events.resolution, model=(32, 32))
    cutter = FrameCutter(config, t0_us=events.t_first, chunk_bins=16)
    first_half = events.slice_time(None, gesture_events.t_last + 1)
    list(cutter.push(first_half, arrival=0.0))
    second_half = events.slice_time(gesture_events.t_last + 1, None)
    frames = cutter.push(second_half, arrival=1.0)
    next(frames)
    # asking for one bin materialised one chunk, not the 10 000 bins of the gap
    bins_of_first_half = (gesture_events.t_last - gesture_events.t_first) // DT + 1
    assert cutter.binner.stats.bins_emitted <= bins_of_first_half + 16
    rest = list(frames)
    assert len(rest) > 10_000
