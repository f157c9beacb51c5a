"""Playback speed: the one check of a speed factor, and the one way of holding event time to
the wall clock.

A :class:`Pacer` anchors an event time to a wall-clock time and from then on says when each
later event time is due at ``speed`` × real time. The engine paces replayed bins with it,
:class:`~live_snn.sources.paced.PacedSource` paces a recording's batches and the simulator
paces the batches it makes.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from live_snn.errors import LiveSnnError

AS_FAST_AS_POSSIBLE = "None for as fast as possible"


def check_speed(
    speed: float | None,
    *,
    what: str = "speed",
    fastest: str | None = AS_FAST_AS_POSSIBLE,
    lowest: float | None = None,
    highest: float | None = None,
    error: type[Exception] = LiveSnnError,
) -> float | None:
    """``speed`` as a float: a finite factor > 0 (× real time), within ``[lowest, highest]``
    where given, or ``None`` (as fast as possible) where ``fastest`` says how a user asks for
    that. Anything else raises ``error`` naming ``what``."""
    if speed is None and fastest is not None:
        return None
    alternative = "" if fastest is None else f" or {fastest}"
    try:
        value = float(speed)
    except (TypeError, ValueError):
        raise error(f"{what} must be a number{alternative}, got {speed!r}") from None
    if lowest is not None or highest is not None:
        low, high = lowest or 0.0, math.inf if highest is None else highest
        if not (math.isfinite(value) and value > 0 and low <= value <= high):
            raise error(f"{what} {speed} is out of range: expected {lowest} to {highest} "
                        f"(times real time){alternative}")
    elif not (math.isfinite(value) and value > 0):
        raise error(f"{what} must be > 0{alternative}, got {speed}")
    return value


class Pacer:
    """When each event time is due on the wall clock (``clock``, seconds) at ``speed`` × real
    time. The schedule is anchored by :meth:`start_at`, or by the first :meth:`due`;
    :meth:`restart` forgets the anchor (after a pause, a seek or a new speed). With
    ``max_lag_s``, a consumer that fell further behind than that (paused, busy) is
    re-anchored where it is instead of rushing through the backlog."""

    def __init__(self, speed: float, *, clock: Callable[[], float] = time.monotonic,
                 max_lag_s: float | None = None):
        self.speed = check_speed(speed, fastest=None, error=ValueError)
        self.max_lag_s = max_lag_s
        self._clock = clock
        self._anchor: tuple[int, float] | None = None  # (event time µs, wall time s)

    def restart(self) -> None:
        """Anchor the schedule afresh at the next :meth:`due`."""
        self._anchor = None

    def start_at(self, t_us: int) -> None:
        """Event time ``t_us`` is due now."""
        self._anchor = (t_us, self._clock())

    def due(self, t_us: int, *, start_us: int | None = None) -> float:
        """The wall-clock time at which event time ``t_us`` is due. Without an anchor, the
        schedule starts now at ``start_us`` (default ``t_us``)."""
        if self._anchor is None:
            self.start_at(t_us if start_us is None else start_us)
        t_anchor, wall_anchor = self._anchor
        due = wall_anchor + (t_us - t_anchor) / 1e6 / self.speed
        if self.max_lag_s is not None:
            now = self._clock()
            if now - due > self.max_lag_s:
                self._anchor = (t_us, now)
                return now
        return due

    def wait(self, due: float, wake: threading.Event, *, slice_s: float | None = None) -> bool:
        """Sleep until the wall clock reaches ``due``, ``wake`` is set, or ``slice_s`` has
        passed. True when there was nothing to wait for (``due`` had come); False after a
        sleep, for the caller to look at what woke it and call again."""
        remaining = due - self._clock()
        if remaining <= 0:
            return True
        wake.wait(remaining if slice_s is None else min(remaining, slice_s))
        return False
