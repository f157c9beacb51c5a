"""A live source read on its own thread (:class:`LiveReader`: a live source may block while
the scene is still) into a bounded queue, with the source clock it shows (newest event, and
how fast that clock runs); :class:`StreamEnd` marks the end of the stream in that queue."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

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
    source's own bounded buffers (TCP window, camera driver). ``on_arrival`` is called (on
    the reader thread) after each item is queued: a consumer that follows several readers
    waits for any of them with it."""

    def __init__(self, source, *, max_batches: int = 256, drop_oldest: bool = True,
                 on_arrival: Callable[[], None] | None = None):
        self.source = source
        self.max_batches = max_batches
        self.drop_oldest = drop_oldest
        self._on_arrival = on_arrival
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
        if self._on_arrival is not None:
            self._on_arrival()
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
