"""Recorded sources (files) → closed bins, anchored at the recording start so that bin k is
always ``[start + k·dt, start + (k+1)·dt)``: after a seek the bins line up with an
uninterrupted replay. Read on the engine thread (a file never blocks for long); nothing is
ever skipped."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator

from live_snn.binning import BinnerStats, BinningConfig, bins_in
from live_snn.engine.frame_cutter import ClosedBin, FrameCutter
from live_snn.errors import SourceError
from live_snn.events import EventBatch


class ReplayFeed:
    def __init__(
        self,
        source,
        binning: BinningConfig,
        *,
        on_batch: Callable[[EventBatch], None],
        keep_sensor_frames: bool = False,
        chunk_bins: int = 64,
    ):
        self.source = source
        self.binning = binning
        self.start_us = int(source.start_us)
        self.end_us = int(source.end_us)
        self._on_batch = on_batch
        self._keep_sensor_frames = keep_sensor_frames
        self._chunk_bins = chunk_bins
        self._touched = False
        self._closed = False
        self.error: BaseException | None = None  # why reading stopped early
        self.restart_at(0)

    def restart_at(self, first_bin: int) -> None:
        """Read from bin ``first_bin`` on (the source seeks to that bin's start)."""
        t0 = self.start_us + first_bin * self.binning.dt_us
        if first_bin > 0 or self._touched:
            self.source.seek(t0)
        self._batches: Iterator[EventBatch] = iter(self.source)
        self.cutter = FrameCutter(self.binning, t0_us=t0, index_offset=first_bin,
                                  keep_sensor_frames=self._keep_sensor_frames,
                                  chunk_bins=self._chunk_bins)
        self._pending: deque[ClosedBin] = deque()
        self._frames: Iterator[ClosedBin] | None = None
        self._eof = False
        self.error = None

    def rebin(self, binning: BinningConfig) -> None:
        """Bin for another model (another dt or resolution) from the recording's start."""
        self.binning = binning
        self.restart_at(0)

    @property
    def num_bins(self) -> int:
        """Bins a full replay yields: those that cover first to last event."""
        return bins_in(self.end_us - self.start_us + 1, self.binning.dt_us)

    def bin_of(self, t_us: int) -> int:
        """The bin holding ``t_us``, clamped to the recording."""
        return min(max((t_us - self.start_us) // self.binning.dt_us, 0), self.num_bins - 1)

    @property
    def binner_stats(self) -> BinnerStats:
        return self.cutter.binner.stats

    @property
    def ended(self) -> bool:
        return self._eof and self._frames is None and not self._pending

    def put_back(self, closed: ClosedBin) -> None:
        self._pending.appendleft(closed)

    def next_bin(self) -> ClosedBin | None:
        """The next bin, or None at the end of the recording."""
        if self._pending:
            return self._pending.popleft()
        while True:
            if self._frames is not None:
                closed = next(self._frames, None)
                if closed is not None:
                    return closed
                self._frames = None
            if self._eof:
                return None
            try:
                batch = next(self._batches, None)
            except SourceError as exc:  # keep every bin before the damage, then report
                self.error = exc
                batch = None
            if batch is None:
                self._eof = True
                self._frames = self.cutter.flush()
                continue
            self._touched = True
            self._on_batch(batch)
            self._frames = self.cutter.push(batch, None)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.source.close()
