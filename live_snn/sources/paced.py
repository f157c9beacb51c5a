"""Replay a recorded source at the pace of its event timestamps (live-like playback)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np

from live_snn.errors import SourceError
from live_snn.events import EventBatch
from live_snn.pacing import Pacer, check_speed
from live_snn.sources.base import SeekableSource

# Replay speeds a recording is paced at (a player's range; the engine paces any speed > 0).
MIN_SPEED, MAX_SPEED = 0.1, 16.0
# Paced batches span at most this much event time, so playback is smooth at any speed.
DEFAULT_MAX_BATCH_US = 5_000
# When the consumer falls further behind than this (paused, busy), the schedule restarts
# from the current event instead of rushing through the backlog.
DEFAULT_MAX_LAG_S = 0.25


def check_replay_speed(speed: float | None) -> float | None:
    """A replay speed in the paced range, or None (as fast as possible)."""
    return check_speed(speed, what="replay speed", lowest=MIN_SPEED, highest=MAX_SPEED,
                       error=SourceError)


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
        self.speed = check_replay_speed(speed)
        self.max_batch_us = int(max_batch_us)
        self._pacer = None if self.speed is None else Pacer(
            self.speed, clock=clock, max_lag_s=float(max_lag_s))
        self._wake = threading.Event()
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
        self.restart_schedule()
        self._seeks += 1  # the rest of a batch split before the seek is dropped

    def restart_schedule(self) -> None:
        """Pace from the next batch on as if playback started now (e.g. after a pause)."""
        if self._pacer is not None:
            self._pacer.restart()

    def __iter__(self) -> Iterator[EventBatch]:
        pacer = self._pacer
        for batch in self.source:
            if pacer is None:
                yield batch
                continue
            seeks = self._seeks
            for part in split_by_time(batch, self.max_batch_us):
                if self._wake.is_set():
                    return
                if self._seeks != seeks:
                    break
                # A batch is due when its last event is; close() cuts the wait short.
                pacer.wait(pacer.due(int(part.t_last), start_us=part.t_first), self._wake)
                yield part

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
