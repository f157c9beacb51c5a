"""What the recorded-file sources that settle one verdict per file when opened share: the
sequential read, batch by batch from the current position, that ends, on a damaged file, with
one :class:`~live_snn.errors.CorruptFileError` per pass (see docs/reliability.md)."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from live_snn.errors import CorruptFileError
from live_snn.events import EventBatch
from live_snn.sources.base import SeekableSource


class VerdictFileSource(SeekableSource):
    """A file source with its verdict settled when opened: ``events`` (the good events) and
    ``damage`` (None, or what is wrong and where). A subclass sets those, ``path``,
    ``events_read``, ``_closed`` and ``_exhausted``, and reads the next events of a pass in
    :meth:`_next_events`."""

    path: Path
    events: int
    damage: str | None
    events_read: int
    _closed: bool
    _exhausted: bool

    @abc.abstractmethod
    def _next_events(self) -> np.ndarray | None:
        """The next events of this pass (EVENT_DTYPE); None or none at its end."""

    def _end_pass(self) -> None:
        """Called once a pass has read its last events."""

    def __iter__(self) -> Iterator[EventBatch]:
        while True:
            batch = self.read_next()
            if batch is None:
                return
            yield batch

    def read_next(self) -> EventBatch | None:
        """The next non-empty batch from the current position, or None at the end; at the
        end of a damaged file, :class:`CorruptFileError` (once per pass)."""
        if self._closed or self._exhausted:
            return None
        events = self._next_events()
        if events is not None and len(events):
            self.events_read += len(events)
            return EventBatch(events, self.resolution)
        self._exhausted = True
        self._end_pass()
        if self.damage is not None and not self._closed:
            raise CorruptFileError(
                f"{self.path}: {self.damage}; the {self.events} events before it are kept",
                path=str(self.path), events_read=self.events_read)
        return None
