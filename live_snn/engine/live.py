"""Live sources (camera, network, simulator) → closed bins, with the backpressure policy.

The source is read on its own thread (:class:`~live_snn.engine.live_reader.LiveReader`: a
live source may block while the scene is still) into a bounded queue; the engine thread calls
:meth:`LiveFeed.poll` between steps to bin what arrived. A still scene sends nothing, so
bins are also closed on the source clock (newest event time + wall time since), a margin
behind it so that events still in flight are not declared late.

* ``skip-oldest``: all that arrived is binned at once and at most ``max_pending`` closed
  bins are kept; older ones are handed to ``on_skip`` and dropped.
* ``process-all``: nothing more is read while ``max_pending`` bins wait, so the backlog stays
  in the reader's bounded queue and then in the source's own buffers; the lag grows and is
  reported.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator

import numpy as np

from live_snn.binning import BinnerStats, BinningConfig
from live_snn.engine.frame_cutter import ClosedBin, FrameCutter
from live_snn.engine.live_reader import LiveReader, StreamEnd
from live_snn.errors import StreamDroppedError
from live_snn.events import EventBatch, Resolution


def first_jump(t: np.ndarray, reference: int | None, bound_us: int) -> int | None:
    """Index of the first timestamp more than ``bound_us`` away from the latest time before
    it (``reference`` or an earlier timestamp), or None."""
    if len(t) == 0:
        return None
    latest = np.maximum.accumulate(t)
    before = np.empty(len(t), dtype=np.int64)
    before[0] = t[0] if reference is None else reference
    before[1:] = latest[:-1]
    if reference is not None:
        np.maximum(before, reference, out=before)
    jumped = np.abs(t - before) > bound_us
    return int(np.argmax(jumped)) if jumped.any() else None


class LiveFeed:
    def __init__(
        self,
        source,
        binning: BinningConfig,
        *,
        on_batch: Callable[[EventBatch], None],
        on_skip: Callable[[ClosedBin], None],
        skip_oldest: bool = True,
        max_pending: int = 4,
        max_queued_batches: int = 256,
        silence_margin_ms: float | None = 50.0,
        keep_sensor_frames: bool = False,
        chunk_bins: int = 64,
        max_jump_us: int | None = 60_000_000,
        on_jump: Callable[[str], None] = lambda message: None,
        on_arrival: Callable[[], None] | None = None,
    ):
        self.source = source
        self.binning = binning
        self.skip_oldest = skip_oldest
        self.max_pending = max_pending
        self.max_queued_batches = max_queued_batches
        self.margin_us = None if silence_margin_ms is None else int(silence_margin_ms * 1e3)
        self._on_batch = on_batch
        self._on_skip = on_skip
        self._keep_sensor_frames = keep_sensor_frames
        self._chunk_bins = chunk_bins
        self.max_jump_us = max_jump_us
        self._on_jump = on_jump
        self._on_arrival = on_arrival
        self._clock_us: int | None = None  # newest event binned (the jump reference)
        self._reset_note: str | None = None  # for the first bin after a re-anchored clock
        self.jumps = 0
        self.pending: deque[ClosedBin] = deque()
        self.dropped_events = 0          # by the reader's queue overflowing (skip-oldest)
        self._backlog: deque[tuple[EventBatch, float]] = deque()
        self._frames: Iterator[ClosedBin] | None = None
        self._cutter: FrameCutter | None = None
        self._next_index = 0
        self._stream_end: StreamEnd | None = None
        self._ended = False
        self._reader: LiveReader | None = None
        self._start_reader()

    def _start_reader(self) -> None:
        self._reader = LiveReader(self.source, max_batches=self.max_queued_batches,
                                  drop_oldest=self.skip_oldest, on_arrival=self._on_arrival)
        self._reader.start()

    # ---- the engine thread's side -------------------------------------------------------
    @property
    def binner_stats(self) -> BinnerStats | None:
        return None if self._cutter is None else self._cutter.binner.stats

    @property
    def ended(self) -> bool:
        return self._ended and not self.pending

    def next_bin(self) -> ClosedBin | None:
        return self.pending.popleft() if self.pending else None

    def put_back(self, closed: ClosedBin) -> None:
        self.pending.appendleft(closed)

    def poll(self, timeout: float) -> StreamEnd | None:
        """Bin what has arrived (waiting up to ``timeout`` s if nothing is in flight). Returns
        the :class:`StreamEnd` once the source has stopped and all it sent is binned; the
        caller then reconnects or calls :meth:`finish`."""
        if self._ended:
            return None  # finished: no more events and no clock to follow
        reader = self._reader
        busy = bool(self._backlog) or self._frames is not None
        if reader is not None and self._stream_end is None and not (busy and not self.skip_oldest):
            idle = not busy and not self.pending
            for item in reader.drain(timeout if idle else 0.0):
                if isinstance(item, StreamEnd):
                    self._stream_end = item
                    break
                self._on_batch(item[0])
                self._backlog.append(item)
            self.dropped_events += reader.take_dropped_events()
        self._fill()
        in_flight = bool(self._backlog) or self._frames is not None
        if not in_flight and self._stream_end is None and reader is not None and not reader.queued:
            self._advance_clock(reader)
        if not in_flight and self._stream_end is not None:
            end, self._stream_end = self._stream_end, None
            return end
        return None

    def take_dropped_events(self) -> int:
        """Events the reader's full queue dropped since the last call."""
        dropped, self.dropped_events = self.dropped_events, 0
        return dropped

    def lag_ms(self) -> float | None:
        """How far the oldest waiting bin (or the source clock) is behind the source."""
        now_us = self._source_clock_us()
        if now_us is None:
            return None
        head = self.pending[0].frame.t_end if self.pending else now_us
        return max(0.0, (now_us - head) / 1e3)

    def finish(self) -> None:
        """The stream is over for good: the open bin is data too."""
        self._stop_reader()
        if self._cutter is not None:
            self._append_all(self._cutter.flush())
        self._ended = True

    def replace_source(self, source) -> None:
        """Continue from a reconnected source: bins go on counting, the binner restarts at
        the new stream's first event (its clock may differ from the old one)."""
        if Resolution.of(source.resolution) != self.binning.sensor:
            source.close()
            raise StreamDroppedError(
                f"the stream came back with a {source.resolution} sensor instead of "
                f"{self.binning.sensor}: not the same stream"
            )
        self._stop_reader()
        if self._cutter is not None:
            self._append_all(self._cutter.flush())
        self._cutter = None
        self._frames = None
        self._backlog.clear()
        self._stream_end = None
        self._clock_us = None  # a new stream, a new clock
        self.source = source
        self._start_reader()

    def rebin(self, binning: BinningConfig) -> None:
        """Bin for another model from the next batch on; bins closed for the old one are
        dropped (they have the old model's frame size)."""
        self.binning = binning
        self.pending.clear()
        self._frames = None
        self._cutter = None

    def close(self) -> None:
        self._stop_reader()

    # ---- internals ----------------------------------------------------------------------
    def _stop_reader(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            reader.stop(join_timeout=0.5)  # also closes the source

    def _fill(self) -> None:
        while self.skip_oldest or len(self.pending) < self.max_pending:
            if self._frames is not None:
                closed = next(self._frames, None)
                if closed is not None:
                    self._append(closed)
                    continue
                self._frames = None
            if not self._backlog:
                return
            batch, arrival = self._backlog.popleft()
            if len(batch) == 0:
                continue
            batch = self._cut_at_jump(batch, arrival)
            if self._cutter is None:
                self._cutter = FrameCutter(self.binning, t0_us=None, index_offset=self._next_index,
                                           keep_sensor_frames=self._keep_sensor_frames,
                                           chunk_bins=self._chunk_bins)
            self._frames = self._cutter.push(batch, arrival)

    def _cut_at_jump(self, batch: EventBatch, arrival: float) -> EventBatch:
        """The part of ``batch`` before a clock jump (the rest goes back to the backlog);
        at a jump, re-anchor: the open bin is closed, the next bin starts at the first event
        after the jump and the model state is reset before it. A jump is a step of more than
        ``max_jump_us`` forward or back from the newest event or the source clock, which
        must not be bridged by materialising every empty bin in between."""
        if self.max_jump_us is None:
            return batch
        t = batch.t
        reference = self._clock_us
        open_bin = None if self._cutter is None else self._cutter.binner.open_bin
        if open_bin is not None:
            reference = open_bin[1] if reference is None else max(reference, open_bin[1])
        i = first_jump(t, reference, self.max_jump_us)
        if i == 0:
            self._reanchor(int(t[0]), int(reference))
            reference = int(t[0])
            i = first_jump(t[1:], reference, self.max_jump_us)
            i = None if i is None else i + 1
        if i is None:
            self._clock_us = int(max(t.max(), reference if reference is not None else t[0]))
            return batch
        self._backlog.appendleft((EventBatch(batch.events[i:], batch.resolution), arrival))
        head = t[:i]
        self._clock_us = int(max(head.max(), reference if reference is not None else head[0]))
        return EventBatch(batch.events[:i], batch.resolution)

    def _reanchor(self, t_us: int, previous_us: int) -> None:
        step_s = (t_us - previous_us) / 1e6
        message = (f"{self.source.description}: the event clock jumped "
                   f"{'forward' if step_s > 0 else 'back'} by {abs(step_s):.1f} s (event at "
                   f"t={t_us} us after {previous_us} us), more than the "
                   f"{self.max_jump_us / 1e6:g} s allowed; clock re-anchored at t={t_us} "
                   "us and the model state reset (no empty bins are made for the gap)")
        if self._cutter is not None:
            self._append_all(self._cutter.flush())
        self._cutter = None
        self._clock_us = t_us
        self._reset_note = message
        self.jumps += 1
        self._on_jump(message)

    def _append(self, closed: ClosedBin) -> None:
        if self._reset_note is not None:
            closed.reset_before, self._reset_note = self._reset_note, None
        self.pending.append(closed)
        self._next_index = closed.frame.index + 1
        while self.skip_oldest and len(self.pending) > self.max_pending:
            skipped = self.pending.popleft()
            if skipped.reset_before and self.pending[0].reset_before is None:
                self.pending[0].reset_before = skipped.reset_before  # the reset still applies
            self._on_skip(skipped)

    def _append_all(self, closed_bins: Iterator[ClosedBin]) -> None:
        for closed in closed_bins:
            self._append(closed)

    def _source_clock_us(self) -> int | None:
        """The source's time now: its newest event plus the wall time since it arrived, at
        the rate the source's clock has been running."""
        reader = self._reader
        if reader is None or reader.newest_t is None:
            return None
        elapsed_us = (time.perf_counter() - reader.newest_wall) * 1e6
        return reader.newest_t + int(elapsed_us * reader.clock_rate())

    def _advance_clock(self, reader: LiveReader) -> None:
        # Only called once everything received is binned, so no event can come before
        # the source clock minus the margin (unless the source is late, then it is dropped
        # and counted by the binner as time-reversed).
        now_us = self._source_clock_us()
        if now_us is None or self._cutter is None or self.margin_us is None:
            return
        if (time.perf_counter() - reader.newest_wall) * 1e6 < self.margin_us:
            return
        open_bin = self._cutter.binner.open_bin
        if self.max_jump_us is not None and open_bin is not None and \
                now_us - open_bin[1] > self.max_jump_us:
            return  # a jump still in the reader's hands: binned (and re-anchored) first
        self._frames = self._cutter.advance_to(now_us - self.margin_us)
        self._fill()
