from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from live_snn.errors import SourceError
from live_snn.events import EventBatch
from live_snn.sources.aedat4 import Aedat4Source
from live_snn.sources.memory import MemorySource
from live_snn.sources.paced import PacedSource, split_by_time


@pytest.fixture(scope="module")
def slice_400ms(recordings_dir) -> EventBatch:
    with Aedat4Source(recordings_dir / "dvsgesture_sample_04.aedat4") as source:
        events = EventBatch.concatenate(list(source))
    return events.slice_time(events.t_first, events.t_first + 400_000)


def test_speed_4x_takes_a_quarter_of_event_time(slice_400ms):
    memory = MemorySource(slice_400ms, description="slice", batch_us=50_000)
    paced = PacedSource(memory, 4.0)
    started = time.monotonic()
    parts = list(paced)
    wall = time.monotonic() - started
    event_span = (slice_400ms.t_last - slice_400ms.t_first) / 1e6
    assert 0.7 * event_span / 4 <= wall <= event_span / 4 + 0.5, wall
    assert all(p.t_last - p.t_first < 5_000 for p in parts)  # split for smooth delivery
    assert np.array_equal(np.concatenate([p.events for p in parts]), slice_400ms.events)


def test_no_speed_passes_batches_through(slice_400ms):
    memory = MemorySource(slice_400ms, description="slice", batch_us=50_000)
    started = time.monotonic()
    parts = list(PacedSource(memory, None))
    assert time.monotonic() - started < 0.5
    assert len(parts) == len(list(MemorySource(slice_400ms, description="s", batch_us=50_000)))


def test_delivery_follows_the_clock(slice_400ms):
    """Each batch comes out no earlier than its last event's scheduled time."""
    now = [0.0]
    waits: list[float] = []
    paced = PacedSource(
        MemorySource(slice_400ms, description="s"), 2.0, clock=lambda: now[0], max_lag_s=1e9
    )
    paced._wake.wait = lambda seconds: waits.append(seconds) or now.__setitem__(0, now[0] + seconds)
    for part in paced:
        assert now[0] >= (part.t_last - slice_400ms.t_first) / 1e6 / 2.0 - 1e-9
    assert sum(waits) == pytest.approx((slice_400ms.t_last - slice_400ms.t_first) / 2e6, rel=1e-6)


@pytest.mark.parametrize("speed", [0.05, 17, -1])
def test_speed_out_of_range(slice_400ms, speed):
    with pytest.raises(SourceError, match="out of range"):
        PacedSource(MemorySource(slice_400ms, description="s"), speed)


def test_seek_restarts_the_schedule(slice_400ms):
    paced = PacedSource(MemorySource(slice_400ms, description="s"), 1.0)
    iterator = iter(paced)
    next(iterator)
    paced.seek(slice_400ms.t_first + 300_000)
    started = time.monotonic()
    part = next(iterator)
    assert part.t_first >= slice_400ms.t_first + 300_000
    assert time.monotonic() - started < 0.1  # no waiting for the 300 ms that were skipped


def test_close_from_another_thread_stops_a_slow_replay(slice_400ms):
    paced = PacedSource(MemorySource(slice_400ms, description="s"), 0.1)
    threading.Timer(0.2, paced.close).start()
    started = time.monotonic()
    list(paced)
    assert time.monotonic() - started < 1.0  # 4 s of replay at 0.1x, cut short


def test_split_by_time_edges():
    t = np.array([0, 1, 4999, 5000, 5001, 12000, 12000], dtype=np.int64)
    events = EventBatch.from_arrays(t, t % 2, t % 2, t % 2, (2, 2))
    parts = split_by_time(events, 5_000)
    assert [list(p.t) for p in parts] == [[0, 1, 4999], [5000, 5001], [12000, 12000]]
    assert split_by_time(EventBatch.empty((2, 2)), 5_000) == []
