"""The streaming :class:`Binner`: push event batches in time order, get every frame they
complete. Counts are added with one ``np.add.at`` per push (two when a push starts a new
block) on flat indices ``row·size + pixel``; the rows of the bins are carved out of zeroed
~1 MiB blocks and handed out as views, so the Python loops run over the bins emitted (to
build the :class:`~live_snn.binning.core.Frame` objects), never over events."""

from __future__ import annotations

import numpy as np

from live_snn.binning.config import BinningConfig, as_int
from live_snn.binning.core import (
    MAX_SENSOR_COUNT,
    BinnerStats,
    Frame,
    bin_lengths,
    check_resolution,
    goes_backwards,
    keep_valid,
    read_only_zeros,
    tables_for,
    time_order_keep,
)
from live_snn.binning.rows import Rows
from live_snn.events import EventBatch


class Binner:
    """Streaming binner: ``push`` batches in time order and get every frame they complete.

    The open bin (the one holding the latest event) is emitted once an event or
    :meth:`advance_to` passes its end, or by :meth:`flush` at the end of the stream. Streaming
    a recording in any batch sizes and flushing gives exactly :func:`bin_events`'s frames.

    A time-reversed event (earlier than the previous one, also across batches, or earlier
    than the open bin after ``advance_to``/``t0_us``) raises :class:`TimestampOrderError`
    naming its global index, and the binner is left as before that push, so nothing is lost;
    with ``tolerate_time_reversal`` such events are dropped and counted instead.

    The ``counts`` of frames with events are views of rows of blocks of about 1 MiB shared
    with the frames binned just before and after them (each frame has its own row).
    """

    def __init__(
        self,
        config: BinningConfig,
        *,
        t0_us: int | None = None,
        keep_sensor_frames: bool = False,
    ):
        self.config = config
        self.mapping = config.mapping()
        self.keep_sensor_frames = keep_sensor_frames
        self._tables = tables_for(self.mapping)
        self._dt = config.dt_us
        self._sensor = config.sensor
        self._sensor_shape = (2, config.sensor.height, config.sensor.width)
        self._empty = read_only_zeros(config.frame_shape, np.float32)
        self._empty_sensor = read_only_zeros(self._sensor_shape, np.uint16)
        self._model_rows = Rows(config.frame_shape, np.float32)
        # Raw sensor counts are uint32 (clipped to uint16 when copied out), so their rows
        # never leave the binner and can be recycled.
        self._sensor_rows = (
            Rows(self._sensor_shape, np.uint32, recycle=True) if keep_sensor_frames else None
        )
        self._t0: int | None = None
        self._open_index = 0  # bin k currently accumulating
        self._open_started = False  # an event or the clock has reached the open bin
        self._ref_t: int | None = None  # no event may be earlier than this
        self._ref_text: str | None = ""  # what _ref_t is; None: the event _ref_event
        self._ref_event = 0
        self._events_in = 0
        self._events_binned = 0
        self._dropped_out_of_range = 0
        self._dropped_outside_crop = 0
        self._dropped_time_reversal = 0
        self._bins_emitted = 0
        if t0_us is not None:
            self._t0 = as_int(t0_us, "t0_us")
            self._set_ref(self._t0, "t0_us, the start of bin 0")

    @property
    def stats(self) -> BinnerStats:
        return BinnerStats(
            events_in=self._events_in,
            events_binned=self._events_binned,
            dropped_out_of_range=self._dropped_out_of_range,
            dropped_outside_crop=self._dropped_outside_crop,
            dropped_time_reversal=self._dropped_time_reversal,
            bins_emitted=self._bins_emitted,
        )

    @property
    def t0_us(self) -> int | None:
        """Start of bin 0: ``t0_us`` if given, else the first event's timestamp."""
        return self._t0

    @property
    def open_bin(self) -> tuple[int, int] | None:
        """``(index, t_start)`` of the bin now accumulating, ``None`` before the clock starts."""
        if self._t0 is None:
            return None
        return self._open_index, self._t0 + self._open_index * self._dt

    def _set_ref(self, t_us: int, text: str) -> None:
        if self._ref_t is None or t_us > self._ref_t:
            self._ref_t, self._ref_text = t_us, text

    def push(self, batch: EventBatch) -> list[Frame]:
        """Bin ``batch``; return every frame it completed, oldest first."""
        # Kept lean: a live source pushes small batches (a few hundred events), where each
        # NumPy call and Python line counts.
        if batch.resolution is not self._sensor:
            check_resolution(batch, self.config)
        events = batch.events
        n = len(events)
        if n == 0:
            return []
        t = events["t"].copy()  # contiguous: fast comparisons and searchsorted
        first_index = self._events_in
        last_kept = n - 1
        if goes_backwards(t, self._ref_t):
            kept_positions = self._in_time_order(t, first_index)
            if len(kept_positions) == 0:
                return []
            last_kept = int(kept_positions[-1])
            events, t = events[kept_positions], t[kept_positions]
        else:
            self._events_in += n

        dt = self._dt
        if self._t0 is None:
            self._t0 = t.item(0)
        t_last = t.item(-1)
        k_open, k_last = self._open_index, (t_last - self._t0) // dt
        self._open_started = True
        self._ref_t, self._ref_text, self._ref_event = t_last, None, first_index + last_kept

        tables = self._tables
        index = tables.model_index(events)
        sensor_rows = self._sensor_rows
        if sensor_rows is not None:
            sensor_index = tables.sensor_index(events, index)
            in_sensor = keep_valid(sensor_index, t, tables.sensor_size, tables.out_of_range)
        if index[index.argmax()] < tables.model_size:  # the common case: nothing to drop
            kept_t = t
        else:
            kept = keep_valid(index, t, tables.model_size, tables.out_of_range)
            index, kept_t = kept.index, kept.t
            self._dropped_out_of_range += kept.out_of_range
            self._dropped_outside_crop += kept.outside_crop
        self._events_binned += len(index)

        rows = self._model_rows
        if k_last == k_open:  # the whole batch falls into the open bin: nothing to emit
            rows.add_to_open(index)
            if sensor_rows is not None:
                sensor_rows.add_to_open(in_sensor.index)
            return []
        self._open_index = k_last
        if k_last == k_open + 1 and sensor_rows is None:  # the common case: one bin closes
            n0 = int(kept_t.searchsorted(self._t0 + k_last * dt))
            counts, n_events = rows.advance_one(index, n0)
            t_start = self._t0 + k_open * dt
            self._bins_emitted += 1
            return [
                Frame(
                    k_open,
                    t_start,
                    t_start + dt,
                    self._empty if counts is None else counts,
                    n_events,
                )
            ]
        model_done, n_events_list = rows.advance(index, self._lengths(kept_t, k_open, k_last))
        sensor_frames = None
        if sensor_rows is not None:
            sensor_lengths = self._lengths(in_sensor.t, k_open, k_last)
            sensor_frames = self._sensor_frames(
                *sensor_rows.advance(in_sensor.index, sensor_lengths)
            )
        return self._frames(k_open, model_done, sensor_frames, n_events_list)

    def _in_time_order(self, t: np.ndarray, first_index: int) -> np.ndarray:
        """Positions in a push (timestamps ``t``, whose first event has the global index
        ``first_index``) of the events that do not go back in time; the others are counted
        as dropped. Raises :class:`TimestampOrderError` unless the binning tolerates them."""
        ref_text = self._ref_text
        keep = time_order_keep(
            t,
            ref=self._ref_t,
            ref_text=f"event {self._ref_event}" if ref_text is None else ref_text,
            first_index=first_index,
            tolerate=self.config.tolerate_time_reversal,
        )
        assert keep is not None  # strict mode raised
        kept_positions = np.flatnonzero(keep)
        self._events_in += len(t)
        self._dropped_time_reversal += len(t) - len(kept_positions)
        return kept_positions

    def _lengths(self, t: np.ndarray, k_open: int, k_last: int) -> list[int]:
        """Events (``t`` sorted, contiguous) in each bin ``k_open..k_last``."""
        if k_last == k_open + 1:
            n0 = int(t.searchsorted(self._t0 + k_last * self._dt))
            return [n0, len(t) - n0]
        return bin_lengths(t, self._t0, self._dt, k_open, k_last).tolist()

    def advance_to(self, t_us: int) -> list[Frame]:
        """The source's clock reached ``t_us`` (e.g. a live camera with a still scene): close
        every bin ending at or before ``t_us``. Events earlier than the new open bin are then
        time-reversed. Before the clock starts (no event, no ``t0_us``) there is nothing to
        close."""
        if self._t0 is None:
            return []
        t_us = as_int(t_us, "t_us")
        k_new = (t_us - self._t0) // self._dt
        if k_new <= self._open_index:
            return []
        # The new open bin has started only if some of its time has passed.
        return self._close_through(k_new, started=t_us > self._t0 + k_new * self._dt)

    def flush(self) -> list[Frame]:
        """End of stream: emit the open bin (a second flush emits nothing)."""
        if self._t0 is None or not self._open_started:
            return []
        return self._close_through(self._open_index + 1, started=False)

    def _close_through(self, k_new: int, *, started: bool) -> list[Frame]:
        n_bins = k_new - self._open_index
        model_done, n_events = self._model_rows.close(n_bins)
        sensor_frames = None
        if self._sensor_rows is not None:
            sensor_frames = self._sensor_frames(*self._sensor_rows.close(n_bins))
        frames = self._frames(self._open_index, model_done, sensor_frames, n_events)
        self._open_index, self._open_started = k_new, started
        assert self._t0 is not None
        start = self._t0 + k_new * self._dt
        self._set_ref(start, f"the start of the open bin {k_new} (earlier bins are closed)")
        return frames

    def _sensor_frames(
        self, raw_rows: list[np.ndarray | None], n_events: list[int]
    ) -> list[np.ndarray]:
        """uint16 copies of completed raw sensor rows, clipped (only a bin with more events
        than uint16 can count may need it)."""
        return [
            self._empty_sensor
            if raw is None
            else raw.astype(np.uint16)
            if n <= MAX_SENSOR_COUNT
            else np.minimum(raw, MAX_SENSOR_COUNT).astype(np.uint16)
            for raw, n in zip(raw_rows, n_events, strict=True)
        ]

    def _frames(
        self,
        k_first: int,
        model_done: list[np.ndarray | None],
        sensor_frames: list[np.ndarray] | None,
        n_events: list[int],
    ) -> list[Frame]:
        assert self._t0 is not None
        dt, empty = self._dt, self._empty
        t_start = self._t0 + k_first * dt
        frames = []
        for j, counts in enumerate(model_done):
            frames.append(
                Frame(
                    k_first + j,
                    t_start,
                    t_start + dt,
                    empty if counts is None else counts,
                    n_events[j],
                    None if sensor_frames is None else sensor_frames[j],
                )
            )
            t_start += dt
        self._bins_emitted += len(frames)
        return frames

