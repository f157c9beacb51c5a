"""The one in-memory form of DVS events used everywhere in live_snn.

An :class:`EventBatch` is a NumPy structured array (``t`` int64 µs, ``x``/``y`` int16,
``p`` int8 in {0, 1}) carried together with the sensor resolution. Sources convert to it
once, at the boundary (dv-processing's ``EventStore.numpy()`` is already almost this
layout); nothing downstream ever loops over single events in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

EVENT_DTYPE = np.dtype([("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "i1")])


# No event camera has more pixels a side; a header declaring more is damaged, and would make
# a sensor-sized frame cost gigabytes.
MAX_SENSOR_SIDE = 8192


@dataclass(frozen=True)
class Resolution:
    """Sensor or model size in pixels, width first (as cameras report it)."""

    width: int
    height: int

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"resolution must be positive, got {self.width}x{self.height}")

    @classmethod
    def of(cls, value: Resolution | Sequence[int]) -> Resolution:
        """Accept a Resolution or a ``(width, height)`` pair."""
        if isinstance(value, Resolution):
            return value
        width, height = value
        return cls(int(width), int(height))

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


@dataclass(frozen=True)
class EventBatch:
    """A time-ordered chunk of events from one sensor.

    ``events`` has dtype :data:`EVENT_DTYPE`. Timestamps are expected to be non-decreasing;
    the binner checks and reports violations rather than this class, so that the check runs
    once on the hot path.
    """

    events: np.ndarray
    resolution: Resolution

    def __post_init__(self) -> None:
        if self.events.dtype != EVENT_DTYPE:
            raise TypeError(f"events must have dtype {EVENT_DTYPE}, got {self.events.dtype}")
        object.__setattr__(self, "resolution", Resolution.of(self.resolution))

    def __len__(self) -> int:
        return int(self.events.shape[0])

    @property
    def t(self) -> np.ndarray:
        return self.events["t"]

    @property
    def x(self) -> np.ndarray:
        return self.events["x"]

    @property
    def y(self) -> np.ndarray:
        return self.events["y"]

    @property
    def p(self) -> np.ndarray:
        return self.events["p"]

    @property
    def t_first(self) -> int | None:
        return int(self.events["t"][0]) if len(self) else None

    @property
    def t_last(self) -> int | None:
        return int(self.events["t"][-1]) if len(self) else None

    @classmethod
    def empty(cls, resolution: Resolution | Sequence[int]) -> EventBatch:
        return cls(np.empty(0, dtype=EVENT_DTYPE), Resolution.of(resolution))

    @classmethod
    def from_arrays(
        cls,
        t: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        p: np.ndarray,
        resolution: Resolution | Sequence[int],
    ) -> EventBatch:
        n = len(t)
        if not (len(x) == len(y) == len(p) == n):
            raise ValueError(f"field lengths differ: t={n} x={len(x)} y={len(y)} p={len(p)}")
        events = np.empty(n, dtype=EVENT_DTYPE)
        events["t"] = t
        events["x"] = x
        events["y"] = y
        events["p"] = p
        return cls(events, Resolution.of(resolution))

    @classmethod
    def from_dv_numpy(cls, array: np.ndarray, resolution: Resolution | Sequence[int]) -> EventBatch:
        """Convert the structured array of ``dv.EventStore.numpy()`` (fields
        ``timestamp``, ``x``, ``y``, ``polarity``) in one vectorised copy."""
        return cls.from_arrays(
            array["timestamp"], array["x"], array["y"], array["polarity"], resolution
        )

    def slice_time(self, t_start: int | None = None, t_end: int | None = None) -> EventBatch:
        """Events with ``t_start <= t < t_end`` (binary search; needs sorted timestamps)."""
        t = self.events["t"]
        lo = 0 if t_start is None else int(np.searchsorted(t, t_start, side="left"))
        hi = len(t) if t_end is None else int(np.searchsorted(t, t_end, side="left"))
        return EventBatch(self.events[lo:hi], self.resolution)

    @staticmethod
    def concatenate(batches: Sequence[EventBatch]) -> EventBatch:
        if not batches:
            raise ValueError("cannot concatenate zero batches (resolution unknown)")
        resolution = batches[0].resolution
        for b in batches[1:]:
            if b.resolution != resolution:
                raise ValueError(f"resolutions differ: {resolution} vs {b.resolution}")
        return EventBatch(np.concatenate([b.events for b in batches]), resolution)


def events_checksum(events: np.ndarray) -> str:
    """A stable digest of every field of every event, to prove that nothing was lost or
    altered between a source and a sink (recording, network loopback)."""
    import hashlib

    canonical = np.ascontiguousarray(events.astype(EVENT_DTYPE, copy=False))
    return hashlib.blake2b(canonical.tobytes(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class LabelSegment:
    """One labelled stretch of a recording, as in DVS128 Gesture's ``*_labels.csv``
    (``class, startTime_usec, endTime_usec``); ``label`` is 0-based here."""

    label: int
    start_us: int
    end_us: int


@dataclass(frozen=True)
class LabelTrack:
    segments: tuple[LabelSegment, ...]
    class_names: tuple[str, ...]

    def label_at(self, t_us: np.ndarray) -> np.ndarray:
        """Label index for each timestamp, -1 where no segment covers it (vectorised)."""
        t_us = np.asarray(t_us, dtype=np.int64)
        out = np.full(t_us.shape, -1, dtype=np.int64)
        for seg in self.segments:  # a recording has a handful of segments, not events
            out[(t_us >= seg.start_us) & (t_us < seg.end_us)] = seg.label
        return out
