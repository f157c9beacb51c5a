"""A steered session: the person rests until cued, performs exactly what is cued, and the
same seed and cues give the same events however the stream is chunked."""

from __future__ import annotations

import numpy as np
import pytest

from live_snn.events import EventBatch, events_checksum
from live_snn.sim import GestureSimulator, SimConfig

QUIET = SimConfig(seed=4, noise_hz=0.0, hot_pixels=0)


def run(chunk_us: int, cues=((1, 300_000, 1_300_000),), until_us: int = 1_600_000) -> tuple:
    stream = GestureSimulator(QUIET).stream(chunk_us=chunk_us, steered=True)
    for label, start, end in cues:
        assert stream.cue(label, start, end) == (start, end)
    batches = [stream.advance_to(t) for t in range(chunk_us, until_us + 1, chunk_us)]
    return EventBatch.concatenate(batches), stream


def test_the_person_performs_only_what_is_cued():
    events, stream = run(10_000)
    assert [(s.label, s.start_us, s.end_us) for s in stream.labels.segments] == [
        (1, 300_000, 1_300_000)]
    during = len(events.slice_time(300_000, 1_300_000)) / 1.0
    resting = len(events.slice_time(0, 250_000)) / 0.25
    assert during > 5 * max(resting, 1)          # the gesture makes the events


def test_cued_sessions_are_deterministic_whatever_the_chunks():
    a, _ = run(10_000)
    b, _ = run(7_000, until_us=1_596_000)
    a = a.slice_time(None, 1_596_000)
    assert events_checksum(a.events) == events_checksum(b.events)


def test_a_late_cue_starts_after_what_is_rendered_and_overlaps_are_refused():
    stream = GestureSimulator(QUIET).stream(steered=True)
    stream.advance_to(500_000)
    start, end = stream.cue(3, 100_000, 900_000)
    assert 500_000 <= start < 510_000 and end == 900_000
    assert stream.cue(4, 850_000, 950_000)[0] == 900_000   # after the previous cue
    assert stream.cue(4, 100_000, 200_000) is None          # nothing of it left


def test_only_steered_sessions_take_cues_and_they_never_end():
    with pytest.raises(ValueError, match="only a steered session"):
        GestureSimulator(QUIET).stream().cue(1, 0, 10)
    with pytest.raises(ValueError, match="endless"):
        GestureSimulator(QUIET).stream(steered=True, n_gestures=2)
    assert GestureSimulator(QUIET).stream(steered=True).end_us is None


def test_a_steered_person_is_the_scripted_one_of_the_same_seed():
    """Body, clothes, room and sensor come from the same draws: the first rest looks the
    same (the person stands still the same way until the scripted one starts a gesture)."""
    steered = GestureSimulator(QUIET).stream(steered=True).advance_to(200_000)
    scripted = GestureSimulator(QUIET).stream().advance_to(200_000)
    assert np.array_equal(steered.events, scripted.events)
