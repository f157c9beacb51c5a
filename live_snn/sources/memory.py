"""A seekable source over events already in memory (a decoded N-MNIST sample, a DVS128
Gesture recording, a test fixture)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from live_snn.errors import CorruptFileError
from live_snn.events import EventBatch, LabelTrack
from live_snn.sources.base import SeekableSource

DEFAULT_BATCH_US = 10_000


class MemorySource(SeekableSource):
    """Yields ``events`` in slices of ``batch_us`` of event time.

    ``damage`` (the file was damaged after these events) is raised at the end of the data.

    Slicing and seeking use the running maximum of the timestamps, so a recording whose
    timestamps step back now and then is still delivered complete and in its own order (the
    binner reports the reversal); for sorted timestamps it is plain time slicing.
    """

    def __init__(
        self,
        events: EventBatch,
        *,
        description: str,
        labels: LabelTrack | None = None,
        batch_us: int = DEFAULT_BATCH_US,
        damage: CorruptFileError | None = None,
    ) -> None:
        if batch_us <= 0:
            raise ValueError(f"batch_us must be positive, got {batch_us}")
        self.events = events
        self.resolution = events.resolution
        self.description = description
        self.labels = labels
        self.batch_us = int(batch_us)
        self._t_running_max = np.maximum.accumulate(events.t) if len(events) else events.t
        self.start_us = int(events.t[0]) if len(events) else 0
        self.end_us = int(self._t_running_max[-1]) if len(events) else 0
        self._cursor = 0
        self.damage = damage  # raised once every event before it was delivered

    def seek(self, t_us: int) -> None:
        self._cursor = int(np.searchsorted(self._t_running_max, int(t_us), side="left"))

    def __iter__(self) -> Iterator[EventBatch]:
        n = len(self.events)
        while self._cursor < n:
            lo = self._cursor
            t_stop = int(self._t_running_max[lo]) + self.batch_us
            hi = max(lo + 1, int(np.searchsorted(self._t_running_max, t_stop, side="left")))
            self._cursor = hi
            yield EventBatch(self.events.events[lo:hi], self.resolution)
        if self.damage is not None:
            raise self.damage
