"""Replay a recorded source at the pace of its event timestamps (live-like playback)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np

from live_snn.errors import SourceError
from live_snn.events import EventBatch
from live_snn.sources.base import SeekableSource

MIN_SPEED, MAX_SPEED = 0.1, 16.0
# Paced batches span at most this much event time, so playback is smooth at any speed.
DEFAULT_MAX_BATCH_US = 5_000
# When the consumer falls further behind than this (paused, busy), the schedule restarts
# from the current event instead of rushing through the backlog.
DEFAULT_MAX_LAG_S = 0.25


def check_speed(speed: float | None) -> float | None:
    if speed is None:
        return None
    if not MIN_SPEED <= float(speed) <= MAX_SPEED:
        raise SourceError(
            f"replay speed {speed} is out of range: expected {MIN_SPEED} to {MAX_SPEED} "
            f"(times real time), or none for as fast as possible"
        )
    return float(speed)


class PacedSource(SeekableSource):
    """Delivers the batches of ``source`` when the wall clock (``time.monotonic``) reaches
    their last event's time, scaled by ``speed``; ``speed=None`` passes batches through
    unchanged and as fast as they are read. Paced batches are split to at most
    ``max_batch_us`` of event time. Seeking restarts the schedule at the new position."""

    def __init__(
        self,
        source: SeekableSource,
        speed: float | None,
        *,
        max_batch_us: int = DEFAULT_MAX_BATCH_US,
        max_lag_s: float = DEFAULT_MAX_LAG_S,
        clock=time.monotonic,
    ) -> None:
        if not isinstance(source, SeekableSource):
            raise SourceError(f"only recorded sources can be paced, not {source.description}")
        self.source = source
        self.speed = check_speed(speed)
        self.max_batch_us = int(max_batch_us)
        self.max_lag_s = float(max_lag_s)
        self._clock = clock
        self._wake = threading.Event()
        self._anchor: tuple[int, float] | None = None  # (event time, wall time) of the schedule
        self._seeks = 0
        self.resolution = source.resolution
        self.labels = source.labels
        self.is_live = False
        self.start_us, self.end_us = source.start_us, source.end_us
        pace = "as fast as possible" if self.speed is None else f"at {self.speed:g}x"
        self.description = f"{source.description}, {pace}"

    def __getattr__(self, name: str):
        # what the wrapped source tells about itself (camera_name, streams, path, ...)
        if name == "source":
            raise AttributeError(name)
        return getattr(self.source, name)

    def seek(self, t_us: int) -> None:
        self.source.seek(t_us)
        self._anchor = None
        self._seeks += 1  # the rest of a batch split before the seek is dropped

    def restart_schedule(self) -> None:
        """Pace from the next batch on as if playback started now (e.g. after a pause)."""
        self._anchor = None

    def __iter__(self) -> Iterator[EventBatch]:
        for batch in self.source:
            if self.speed is None:
                yield batch
                continue
            seeks = self._seeks
            for part in split_by_time(batch, self.max_batch_us):
                if self._wake.is_set():
                    return
                if self._seeks != seeks:
                    break
                self._wait_for(part.t_first, int(part.t_last))
                yield part

    def _wait_for(self, t_first: int, t_last: int) -> None:
        now = self._clock()
        if self._anchor is None:
            self._anchor = (t_first, now)
        t_anchor, wall_anchor = self._anchor
        due = wall_anchor + (t_last - t_anchor) / 1e6 / self.speed
        if now - due > self.max_lag_s:
            self._anchor = (t_last, now)
        elif due > now:
            self._wake.wait(due - now)

    def close(self) -> None:
        self._wake.set()
        self.source.close()


def split_by_time(batch: EventBatch, max_span_us: int) -> list[EventBatch]:
    """Consecutive slices of ``batch`` that each span less than ``max_span_us``."""
    if len(batch) == 0 or int(batch.t_last) - int(batch.t_first) < max_span_us:
        return [batch] if len(batch) else []
    t = batch.t
    edges = np.arange(int(t[0]), int(t[-1]) + 1, max_span_us, dtype=np.int64)[1:]
    cuts = np.unique(np.searchsorted(t, edges, side="left"))
    bounds = np.concatenate(([0], cuts[(cuts > 0) & (cuts < len(t))], [len(t)]))
    return [
        EventBatch(batch.events[lo:hi], batch.resolution)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]
