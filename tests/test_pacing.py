"""The one speed check and the one pacing schedule (used by the engine, the paced replay of
recordings and the simulator)."""

from __future__ import annotations

import argparse
import threading

import pytest

from live_snn.errors import LiveSnnError
from live_snn.pacing import Pacer, check_speed


def test_check_speed_takes_positive_factors_and_none():
    assert check_speed(None) is None
    assert check_speed(2) == 2.0 and isinstance(check_speed(2), float)
    assert check_speed("0.5") == 0.5
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(LiveSnnError, match="speed must be > 0"):
            check_speed(bad)
    with pytest.raises(LiveSnnError, match="must be a number"):
        check_speed("fast")


def test_check_speed_says_what_and_raises_the_callers_error():
    with pytest.raises(argparse.ArgumentTypeError, match=r"--speed must be > 0 or 'max'"):
        check_speed(-2, what="--speed", fastest="'max'", error=argparse.ArgumentTypeError)
    with pytest.raises(ValueError, match=r"playback speed must be a number, got None"):
        check_speed(None, what="playback speed", fastest=None, error=ValueError)
    with pytest.raises(LiveSnnError, match=r"replay speed 20 is out of range: expected 0.1 to 16"):
        check_speed(20, what="replay speed", lowest=0.1, highest=16)
    assert check_speed(16, lowest=0.1, highest=16) == 16.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_due_times_follow_event_time_at_speed_from_the_anchor():
    clock = FakeClock()
    pacer = Pacer(2.0, clock=clock)
    assert pacer.due(1_000_000, start_us=500_000) == pytest.approx(100.25)  # anchored now
    clock.now = 107.0
    assert pacer.due(2_000_000) == pytest.approx(100.75)   # same anchor, however late
    pacer.restart()
    assert pacer.due(2_000_000) == pytest.approx(107.0)    # re-anchored at the next due
    pacer.start_at(0)
    assert pacer.due(1_000_000) == pytest.approx(107.5)


def test_a_consumer_too_far_behind_is_re_anchored_where_it_is():
    clock = FakeClock()
    pacer = Pacer(1.0, clock=clock, max_lag_s=0.25)
    pacer.start_at(0)
    clock.now = 100.2
    assert pacer.due(0) == pytest.approx(100.0)            # 0.2 s late: keep the schedule
    clock.now = 101.0
    assert pacer.due(100_000) == pytest.approx(101.0)      # 0.9 s late: due now, from here on
    assert pacer.due(600_000) == pytest.approx(101.5)


def test_wait_sleeps_until_due_or_until_woken():
    pacer = Pacer(1.0)
    wake = threading.Event()
    due = pacer.due(0)
    assert pacer.wait(due, wake)                           # due already: nothing to wait for
    later = pacer.due(10_000_000)                          # 10 s from now
    wake.set()
    assert not pacer.wait(later, wake)                     # woken at once
    wake.clear()
    assert not pacer.wait(later, wake, slice_s=0.01)       # a slice of the wait, then back
    with pytest.raises(ValueError, match="speed must be > 0"):
        Pacer(0)
