"""From event batches to closed bins, for the engine thread.

* :class:`FrameCutter` wraps the :class:`~live_snn.binning.Binner`: it feeds it one bin's
  worth of events at a time and closes a long gap ``chunk_bins`` at a time (so neither a
  huge batch nor a long silence materialises many frames at once), numbers bins from an
  offset (after a seek the binner restarts at a snapshot's bin), and stamps each bin with
  when its newest event arrived and when it closed, for the latency clocks.
* :class:`LiveReader` pulls a live source on its own thread (a live source may block while
  the scene is still) into a bounded queue that the engine thread drains between steps.
"""

from __future__ import annotations

import threading
import time
from collections import deque
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


CLOCK_MARK_EVERY_S = 0.5   # a live source's clock rate is measured over
CLOCK_MARKS = 5            # ...the last 2 to 2.5 s


@dataclass
class StreamEnd:
    """Put in the queue when the source stops: ``error`` is None at a normal end."""

    error: BaseException | None


class LiveReader:
    """Pull ``source`` on a daemon thread into a queue of at most ``max_batches`` batches.

    When the queue is full, ``drop_oldest`` discards the oldest batch (its events are counted
    in ``dropped_events``); otherwise the reader waits, which leaves the backlog to the
    source's own bounded buffers (TCP window, camera driver)."""

    def __init__(self, source, *, max_batches: int = 256, drop_oldest: bool = True):
        self.source = source
        self.max_batches = max_batches
        self.drop_oldest = drop_oldest
        self.dropped_events = 0
        self.dropped_batches = 0
        # The source clock: newest event received and when (the engine may lag behind it),
        # and a few earlier (event time, wall time) pairs to see how fast that clock runs.
        self.newest_t: int | None = None
        self.newest_wall = 0.0
        self._clock_marks: deque[tuple[int, float]] = deque(maxlen=CLOCK_MARKS)
        self._items: deque = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="live-snn-reader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            for batch in self.source:
                arrival = time.perf_counter()
                if len(batch):
                    self.newest_t, self.newest_wall = batch.t_last, arrival
                    marks = self._clock_marks
                    if not marks or arrival - marks[-1][1] >= CLOCK_MARK_EVERY_S:
                        marks.append((batch.t_last, arrival))
                if not self._put((batch, arrival)):
                    return
            self._put(StreamEnd(None), force=True)
        except BaseException as exc:  # delivered to the engine thread, which reports it
            self._put(StreamEnd(exc), force=True)

    def _put(self, item, *, force: bool = False) -> bool:
        with self._cond:
            while not force and len(self._items) >= self.max_batches and not self._stopping:
                if self.drop_oldest:
                    dropped = self._items.popleft()
                    self.dropped_batches += 1
                    self.dropped_events += len(dropped[0])
                else:
                    self._cond.wait(0.1)
            if self._stopping:
                return False
            self._items.append(item)
            self._cond.notify_all()
            return True

    def clock_rate(self) -> float:
        """Source µs per wall µs over the last seconds, at most 1: a camera runs at 1, a
        simulator that cannot keep up with real time runs slower, and its clock must not be
        extrapolated past the events it has yet to send."""
        marks, newest_t, newest_wall = self._clock_marks, self.newest_t, self.newest_wall
        if not marks or newest_t is None:
            return 1.0
        t_old, wall_old = marks[0]
        if newest_wall - wall_old < CLOCK_MARK_EVERY_S:
            return 1.0
        return min(1.0, max(0.0, (newest_t - t_old) / 1e6 / (newest_wall - wall_old)))

    def take_dropped_events(self) -> int:
        """Events dropped since the last call (the reader thread adds to the count)."""
        with self._cond:
            dropped, self.dropped_events = self.dropped_events, 0
        return dropped

    @property
    def queued(self) -> int:
        return len(self._items)

    def drain(self, timeout: float) -> list:
        """Everything queued, waiting up to ``timeout`` s for the first item."""
        with self._cond:
            if not self._items:
                self._cond.wait(timeout)
            items = list(self._items)
            self._items.clear()
            self._cond.notify_all()
            return items

    def stop(self, join_timeout: float = 2.0) -> None:
        with self._cond:
            self._stopping = True
            self._items.clear()
            self._cond.notify_all()
        try:
            self.source.close()
        finally:
            if self._thread.is_alive() and self._thread is not threading.current_thread():
                self._thread.join(join_timeout)
