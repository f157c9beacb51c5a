"""From event batches to closed bins, for the engine thread (both feeds use it).

:class:`FrameCutter` wraps the :class:`~live_snn.binning.Binner`: it feeds it one bin's
worth of events at a time and closes a long gap ``chunk_bins`` at a time (so neither a huge
batch nor a long silence materialises many frames at once), numbers bins from an offset
(after a seek the binner restarts at a snapshot's bin), and stamps each bin with when its
newest event arrived and when it closed, for the latency clocks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from live_snn.binning import Binner, BinningConfig, Frame
from live_snn.events import EventBatch


@dataclass
class ClosedBin:
    frame: Frame               # frame.index is the global bin index
    closed_at: float           # perf_counter() when the binner closed it
    arrival: float | None      # perf_counter() when its newest event arrived; None if empty
    release: float | None = None  # paced replay: when the replay clock reached its end
    reset_before: str | None = None  # the model state is reset before this bin, and why


class FrameCutter:
    def __init__(
        self,
        config: BinningConfig,
        *,
        t0_us: int | None,
        index_offset: int = 0,
        keep_sensor_frames: bool = False,
        chunk_bins: int = 64,
    ):
        self.binner = Binner(config, t0_us=t0_us, keep_sensor_frames=keep_sensor_frames)
        self.dt_us = config.dt_us
        self.index_offset = index_offset
        self.span_us = chunk_bins * config.dt_us
        self._last_arrival: float | None = None

    @property
    def started(self) -> bool:
        return self.binner.open_bin is not None

    def push(self, batch: EventBatch, arrival: float | None) -> Iterator[ClosedBin]:
        """Frames completed by ``batch``, produced lazily: the batch goes into the binner one
        bin's worth of events at a time, so a bin closes when it is asked for (as it would
        live, where events arrive in small packets), not all bins of a big batch at once.

        ``arrival``: when the batch arrived (live); None for a replay, whose events count as
        arriving when their piece enters the binner (a file is read ahead in big batches)."""
        t = batch.t
        n = len(batch)
        i = 0
        while i < n:
            yield from self._catch_up(int(t[i]))
            open_bin = self.binner.open_bin
            limit = (open_bin[1] if open_bin else int(t[i])) + self.dt_us
            j = max(int(np.searchsorted(t, limit, side="left")), i + 1)
            piece_first = int(t[i])
            pushed_at = time.perf_counter()
            frames = self.binner.push(EventBatch(batch.events[i:j], batch.resolution))
            closed_at = time.perf_counter()
            piece_arrival = pushed_at if arrival is None else arrival
            for frame in frames:
                # A bin ending after this piece's first event got its newest event now.
                if frame.n_events == 0:
                    stamp = None
                elif frame.t_end > piece_first:
                    stamp = piece_arrival
                else:
                    stamp = self._last_arrival
                yield self._closed(frame, closed_at, stamp)
            self._last_arrival = piece_arrival
            i = j

    def advance_to(self, t_us: int) -> Iterator[ClosedBin]:
        """The source clock reached ``t_us`` without events: close the bins that ended."""
        yield from self._catch_up(t_us)
        yield from self._closed_all(self.binner.advance_to(t_us))

    def flush(self) -> Iterator[ClosedBin]:
        yield from self._closed_all(self.binner.flush())

    def _catch_up(self, t_us: int) -> Iterator[ClosedBin]:
        # Close bins a chunk at a time until the open bin is less than a chunk behind t_us.
        while True:
            open_bin = self.binner.open_bin
            if open_bin is None or t_us - open_bin[1] < self.span_us:
                return
            yield from self._closed_all(self.binner.advance_to(open_bin[1] + self.span_us))

    def _closed_all(self, frames: list[Frame]) -> Iterator[ClosedBin]:
        closed_at = time.perf_counter()
        for frame in frames:
            yield self._closed(frame, closed_at, self._last_arrival if frame.n_events else None)

    def _closed(self, frame: Frame, closed_at: float, arrival: float | None) -> ClosedBin:
        frame.index += self.index_offset
        return ClosedBin(frame, closed_at, arrival)
