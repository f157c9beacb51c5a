from __future__ import annotations

import numpy as np
import pytest

from live_snn.events import EventBatch
from live_snn.sources.memory import MemorySource


def batch(t) -> EventBatch:
    t = np.asarray(t, dtype=np.int64)
    n = len(t)
    return EventBatch.from_arrays(t, np.arange(n) % 8, np.arange(n) % 4, np.arange(n) % 2, (8, 4))


def test_slices_cover_all_events_in_order():
    events = batch(np.arange(0, 100_000, 7))
    source = MemorySource(events, description="test", batch_us=10_000)
    parts = list(source)
    assert all(p.t_last - p.t_first < 10_000 for p in parts)
    assert np.array_equal(np.concatenate([p.events for p in parts]), events.events)
    assert (source.start_us, source.end_us) == (0, int(events.t[-1]))
    assert list(source) == []  # at the end until a seek


def test_seek_to_first_event_at_or_after():
    events = batch([10, 20, 20, 30, 45, 60])
    source = MemorySource(events, description="test", batch_us=1_000)
    source.seek(21)
    assert next(iter(source)).t[0] == 30
    source.seek(20)
    assert list(next(iter(source)).t) == [20, 20, 30, 45, 60]
    source.seek(61)
    assert list(source) == []


def test_time_going_back_is_delivered_complete_in_file_order():
    events = batch([0, 5, 3, 8, 2, 12, 30, 25])
    parts = list(MemorySource(events, description="test", batch_us=10))
    assert np.array_equal(np.concatenate([p.events for p in parts]), events.events)


def test_bad_batch_us():
    with pytest.raises(ValueError, match="batch_us"):
        MemorySource(batch([1]), description="x", batch_us=0)
