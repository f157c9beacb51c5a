"""Checks every recorded-file source applies to its decoded events, vectorised: the same rules
for AEDAT4 (in the decoder child) and for the formats read in this process, so that one kind
of damage gets one message whatever the format."""

from __future__ import annotations

import numpy as np

# Consecutive events further apart than this are damage (a flipped bit in a timestamp), not
# a pause: a real sensor's noise alone fires many times a second.
MAX_EVENT_GAP_US = 60_000_000


def first_bad_timestamp(t: np.ndarray, previous: int | None, max_gap_us: int) -> tuple[int, str] | None:
    """Index in ``t`` of the first timestamp that is negative, earlier than its predecessor
    (``previous`` before ``t[0]``) or later than it by more than ``max_gap_us``, with what is
    wrong; None when all are fine."""
    if len(t) == 0:
        return None
    before = np.empty(len(t), dtype=np.int64)
    before[0] = t[0] if previous is None else previous
    before[1:] = t[:-1]
    step = t - before
    bad = (t < 0) | (step < 0) | (step > max_gap_us)
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    if t[i] < 0:
        return i, f"negative timestamp {int(t[i])} us"
    if step[i] < 0:
        return i, f"timestamps go backwards: {int(t[i])} us after {int(before[i])} us"
    return i, (f"timestamp jumps forward by {step[i] / 1e6:.1f} s ({int(before[i])} -> "
               f"{int(t[i])} us), more than the {max_gap_us / 1e6:g} s a recording may pause")


def first_outside(x: np.ndarray, y: np.ndarray, width: int, height: int) -> tuple[int, str] | None:
    """Index of the first event outside a ``width`` x ``height`` sensor, with what is wrong."""
    bad = (x < 0) | (x >= width) | (y < 0) | (y >= height)
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    return i, f"x={int(x[i])}, y={int(y[i])} is outside the {width}x{height} sensor"
