"""Events → fixed-duration count frames ``[2, H, W]`` at the model's resolution.

One core serves both uses, so that a model is trained on exactly the frames it sees live:
:class:`Binner` bins a stream batch by batch, :func:`bin_events` bins a whole recording.
Bin ``k`` covers ``[t0 + k·dt, t0 + (k+1)·dt)`` on the event clock; a bin without events is
still a bin (an all-zero frame), so a still scene yields empty frames rather than a stall.

Sensor → model mapping: a crop box in sensor pixels, then an integer downscale that sums
``f×f`` sensor pixels into one model pixel (counts are added, never averaged).

Speed: every event is mapped to a flat frame index with three lookup-table gathers (the
tables fold the range check, the crop and the downscale in), bins are found with one
``searchsorted`` on the sorted timestamps, and counts are added with one ``np.add.at``
(its fast path: intp indices, float32 values). Nothing loops over events in Python; the only
Python loops run over bins, to build the :class:`Frame` objects.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np

from live_snn.errors import BinningError, TimestampOrderError
from live_snn.events import EventBatch, Resolution

# Lookup-table markers for dropped events. A kept event's flat index is < 2·H·W < 2**32, so
# a sum reaching _OUTSIDE_CROP means "in the sensor, outside the crop", and one reaching
# _OUT_OF_RANGE (larger than three crop markers together) means "not a sensor coordinate".
_OUTSIDE_CROP = 1 << 32
_OUT_OF_RANGE = 1 << 48
_MAX_SENSOR_COUNT = np.iinfo(np.uint16).max


@dataclass(frozen=True)
class SpatialMapping:
    """Where model pixels come from: the crop box ``(x0, y0, width, height)`` in sensor
    pixels, then sum-pooling by ``factor`` (``width = model.width · factor``)."""

    sensor: Resolution
    model: Resolution
    x0: int
    y0: int
    width: int
    height: int
    factor: int

    @property
    def crop(self) -> tuple[int, int, int, int]:
        return (self.x0, self.y0, self.width, self.height)

    @property
    def is_full_sensor(self) -> bool:
        return (self.width, self.height) == (self.sensor.width, self.sensor.height)

    @property
    def is_centred(self) -> bool:
        return (
            self.x0 == (self.sensor.width - self.width) // 2
            and self.y0 == (self.sensor.height - self.height) // 2
        )

    def describe(self) -> str:
        """One line for logs, the CLI and the GUI, e.g. ``346x260 sensor → centre crop
        256x256 at (45,2) → ÷2 (sum of 2x2 pixels) → 128x128 model``."""
        if self.is_full_sensor:
            crop = "full sensor"
        else:
            kind = "centre crop" if self.is_centred else "crop"
            crop = f"{kind} {self.width}x{self.height} at ({self.x0},{self.y0})"
        scale = (
            f"÷{self.factor} (sum of {self.factor}x{self.factor} pixels)"
            if self.factor > 1
            else "no downscale"
        )
        return f"{self.sensor} sensor → {crop} → {scale} → {self.model} model"


def _as_int(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise BinningError(f"{name} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise BinningError(f"{name} must be an integer, got {value!r}") from None


def _resolve_mapping(
    sensor: Resolution,
    model: Resolution,
    crop: tuple[int, int, int, int] | None,
    downscale: int | None,
) -> SpatialMapping:
    if crop is not None:
        x0, y0, width, height = crop
        if width <= 0 or height <= 0:
            raise BinningError(f"crop {width}x{height} at ({x0},{y0}) has no area")
        if x0 < 0 or y0 < 0 or x0 + width > sensor.width or y0 + height > sensor.height:
            raise BinningError(
                f"crop {width}x{height} at ({x0},{y0}) does not fit in the {sensor} sensor"
            )
        factor = downscale if downscale is not None else width // model.width
        if factor < 1 or (width, height) != (model.width * factor, model.height * factor):
            wanted = (
                f"{model.width * factor}x{model.height * factor} for ÷{factor}"
                if factor >= 1
                else f"at least {model}"
            )
            raise BinningError(
                f"crop {width}x{height} does not map onto the {model} model by an integer "
                f"downscale: expected a crop of {wanted}"
            )
        return SpatialMapping(sensor, model, x0, y0, width, height, factor)

    if downscale is not None:
        factor = downscale
        if factor < 1:
            raise BinningError(f"downscale must be >= 1, got {factor}")
    else:
        # Largest integer factor whose field of view fits; a bigger view needs a bigger factor.
        factor = min(sensor.width // model.width, sensor.height // model.height)
        if factor < 1:
            raise BinningError(
                f"the {sensor} sensor is smaller than the {model} model input; padding is not "
                f"supported: choose a model resolution of at most {sensor}"
            )
    width, height = model.width * factor, model.height * factor
    if width > sensor.width or height > sensor.height:
        raise BinningError(
            f"downscale ÷{factor} needs a {width}x{height} field of view, larger than the "
            f"{sensor} sensor"
        )
    x0, y0 = (sensor.width - width) // 2, (sensor.height - height) // 2
    return SpatialMapping(sensor, model, x0, y0, width, height, factor)


@dataclass(frozen=True)
class BinningConfig:
    """How events become frames. Stored in checkpoints: a model runs on the binning it was
    trained with. ``crop=None`` centres the crop; ``downscale=None`` takes the largest integer
    factor whose field of view fits in the sensor. Invalid combinations raise
    :class:`BinningError` at construction."""

    dt_us: int
    sensor: Resolution
    model: Resolution
    crop: tuple[int, int, int, int] | None = None
    downscale: int | None = None
    tolerate_time_reversal: bool = False

    def __post_init__(self) -> None:
        dt_us = _as_int(self.dt_us, "dt_us")
        if dt_us <= 0:
            raise BinningError(f"dt_us must be a positive number of microseconds, got {dt_us}")
        object.__setattr__(self, "dt_us", dt_us)
        object.__setattr__(self, "sensor", Resolution.of(self.sensor))
        object.__setattr__(self, "model", Resolution.of(self.model))
        if self.crop is not None:
            if len(self.crop) != 4:
                raise BinningError(f"crop must be (x0, y0, width, height), got {self.crop!r}")
            crop = tuple(_as_int(v, "crop value") for v in self.crop)
            object.__setattr__(self, "crop", crop)
        if self.downscale is not None:
            object.__setattr__(self, "downscale", _as_int(self.downscale, "downscale"))
        object.__setattr__(self, "tolerate_time_reversal", bool(self.tolerate_time_reversal))
        self.mapping()  # fail now, not at the first event

    def mapping(self) -> SpatialMapping:
        return _resolve_mapping(self.sensor, self.model, self.crop, self.downscale)

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        return (2, self.model.height, self.model.width)

    def as_dict(self) -> dict:
        """JSON-ready form (checkpoint metadata)."""
        return {
            "dt_us": self.dt_us,
            "sensor": [self.sensor.width, self.sensor.height],
            "model": [self.model.width, self.model.height],
            "crop": list(self.crop) if self.crop is not None else None,
            "downscale": self.downscale,
            "tolerate_time_reversal": self.tolerate_time_reversal,
        }

    @classmethod
    def from_dict(cls, data: dict) -> BinningConfig:
        try:
            return cls(
                dt_us=data["dt_us"],
                sensor=Resolution.of(data["sensor"]),
                model=Resolution.of(data["model"]),
                crop=tuple(data["crop"]) if data.get("crop") is not None else None,
                downscale=data.get("downscale"),
                tolerate_time_reversal=data.get("tolerate_time_reversal", False),
            )
        except KeyError as exc:
            raise BinningError(
                f"binning config lacks the field {exc.args[0]!r}: {data!r}"
            ) from None


@dataclass(slots=True)
class Frame:
    """One bin ``[t_start, t_end)``. ``counts`` is float32 ``[2, H, W]`` at model resolution,
    channel 0 = OFF (p=0), channel 1 = ON (p=1). Frames of empty bins share one read-only
    zero array (a long silence costs no memory): copy before writing into ``counts``."""

    index: int
    t_start: int
    t_end: int
    counts: np.ndarray
    n_events: int
    sensor_counts: np.ndarray | None = None


@dataclass(frozen=True)
class BinnerStats:
    """Where every event went: ``events_in = events_binned + dropped``."""

    events_in: int = 0
    events_binned: int = 0
    dropped_out_of_range: int = 0  # x/y outside the sensor, or a polarity other than 0/1
    dropped_outside_crop: int = 0  # on the sensor but outside the crop box
    dropped_time_reversal: int = 0  # only in tolerant mode; strict mode raises instead
    bins_emitted: int = 0

    @property
    def dropped(self) -> int:
        return self.dropped_out_of_range + self.dropped_outside_crop + self.dropped_time_reversal


@dataclass
class BinnedRecording:
    """A whole recording binned at once: ``frames[k]`` covers ``[t_start[k], t_start[k] + dt)``."""

    frames: np.ndarray  # float32 [N, 2, H, W]
    t_start: np.ndarray  # int64 [N]
    n_events: np.ndarray  # int64 [N], events per frame after the crop
    dt_us: int
    stats: BinnerStats

    def __len__(self) -> int:
        return int(self.frames.shape[0])


# --------------------------------------------------------------------------- shared core


class _IndexTables:
    """Lookup tables from raw (x, y, p) to a flat index into one frame, for the model frame
    (crop + downscale) and the sensor frame. Indexed by the raw bits (x, y as uint16, p as
    uint8), so negative or oversized coordinates land on a marker instead of an IndexError."""

    def __init__(self, mapping: SpatialMapping):
        model, sensor, f = mapping.model, mapping.sensor, mapping.factor
        self.model_size = 2 * model.width * model.height
        self.sensor_size = 2 * sensor.width * sensor.height
        self.model_x = self._axis(sensor.width, mapping.x0, mapping.width, f, 1)
        self.model_y = self._axis(sensor.height, mapping.y0, mapping.height, f, model.width)
        self.model_p = self._polarity(model.width * model.height)
        self.sensor_same_as_model = mapping.is_full_sensor and f == 1
        if not self.sensor_same_as_model:
            self.sensor_x = self._axis(sensor.width, 0, sensor.width, 1, 1)
            self.sensor_y = self._axis(sensor.height, 0, sensor.height, 1, sensor.width)
            self.sensor_p = self._polarity(sensor.width * sensor.height)

    @staticmethod
    def _axis(sensor_len: int, start: int, length: int, factor: int, stride: int) -> np.ndarray:
        table = np.full(1 << 16, _OUT_OF_RANGE, dtype=np.intp)
        table[:sensor_len] = _OUTSIDE_CROP
        table[start : start + length] = (np.arange(length, dtype=np.intp) // factor) * stride
        return table

    @staticmethod
    def _polarity(plane: int) -> np.ndarray:
        table = np.full(1 << 8, _OUT_OF_RANGE, dtype=np.intp)
        table[0], table[1] = 0, plane
        return table

    def model_index(self, events: np.ndarray) -> np.ndarray:
        return self._gather(events, self.model_x, self.model_y, self.model_p)

    def sensor_index(self, events: np.ndarray, model_index: np.ndarray) -> np.ndarray:
        if self.sensor_same_as_model:
            return model_index.copy()
        return self._gather(events, self.sensor_x, self.sensor_y, self.sensor_p)

    @staticmethod
    def _gather(events: np.ndarray, tx: np.ndarray, ty: np.ndarray, tp: np.ndarray) -> np.ndarray:
        index = tx.take(events["x"].view(np.uint16))
        index += ty.take(events["y"].view(np.uint16))
        index += tp.take(events["p"].view(np.uint8))
        return index


@dataclass(slots=True)
class _Kept:
    """Indices (and their timestamps) of the events that go into frames, with drop counts."""

    index: np.ndarray
    t: np.ndarray
    out_of_range: int
    outside_crop: int


def _keep_valid(index: np.ndarray, t: np.ndarray, size: int) -> _Kept:
    if len(index) == 0 or int(index.max()) < size:  # the common case: nothing to drop
        return _Kept(index, t, 0, 0)
    keep = index < size
    out_of_range = int(np.count_nonzero(index >= _OUT_OF_RANGE))
    outside_crop = len(index) - int(np.count_nonzero(keep)) - out_of_range
    return _Kept(index[keep], t[keep], out_of_range, outside_crop)


def _time_order_keep(
    t: np.ndarray, *, ref: int | None, ref_text: str, first_index: int, tolerate: bool
) -> np.ndarray | None:
    """``None`` when every timestamp is >= its predecessor (and >= ``ref``); otherwise raise
    :class:`TimestampOrderError` naming the first offender, or in tolerant mode return the
    mask of events that do not go back behind the latest earlier timestamp."""
    if len(t) == 0:
        return None
    start_ok = ref is None or int(t[0]) >= ref
    backwards = t[1:] < t[:-1]
    if start_ok and not backwards.any():
        return None
    if not tolerate:
        if not start_ok:
            raise TimestampOrderError(
                f"event {first_index} has timestamp {int(t[0])} µs, earlier than {ref_text} "
                f"({ref} µs): timestamps must not go backwards (set "
                f"tolerate_time_reversal=True to drop and count such events)",
                index=first_index,
            )
        i = int(np.argmax(backwards)) + 1
        raise TimestampOrderError(
            f"event {first_index + i} has timestamp {int(t[i])} µs, earlier than event "
            f"{first_index + i - 1} at {int(t[i - 1])} µs: timestamps must not go backwards "
            f"(set tolerate_time_reversal=True to drop and count such events)",
            index=first_index + i,
        )
    latest = np.maximum.accumulate(t)
    if ref is not None:
        np.maximum(latest, ref, out=latest)
    return t >= latest


def _bin_lengths(t: np.ndarray, t0: int, dt: int, k_first: int, k_last: int) -> np.ndarray:
    """Number of events (``t`` sorted) in each bin ``k_first..k_last``."""
    n_edges = k_last - k_first
    first_edge = t0 + (k_first + 1) * dt
    edges = np.arange(first_edge, first_edge + n_edges * dt, dt, dtype=np.int64)
    bounds = np.empty(n_edges + 2, dtype=np.intp)
    bounds[0], bounds[-1] = 0, len(t)
    bounds[1:-1] = t.searchsorted(edges)
    return bounds[1:] - bounds[:-1]


def _scatter(
    out: np.ndarray,
    index: np.ndarray,
    rows: np.ndarray | None,
    lengths: np.ndarray | None,
    ones: np.ndarray,
) -> None:
    """``out[rows[b]]`` += one count per event of bin ``b`` at its flat ``index``
    (``rows=None``: all into row 0).

    ``out`` is C-contiguous ``[R, size]``; ``index`` is consumed (offset in place); ``ones``
    holds at least ``len(index)`` ones of ``out``'s dtype."""
    if len(index) == 0:
        return
    if rows is not None:
        index += np.repeat(rows * out.shape[1], lengths)
    # intp indices + values of out's own dtype take numpy's fast add.at path.
    np.add.at(out.reshape(-1), index, ones[: len(index)])


def _read_only_zeros(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    zeros = np.zeros(shape, dtype=dtype)
    zeros.flags.writeable = False
    return zeros


def _check_resolution(batch: EventBatch, config: BinningConfig) -> None:
    if batch.resolution != config.sensor:
        raise BinningError(
            f"event batch is from a {batch.resolution} sensor but the binning is configured "
            f"for {config.sensor}"
        )


# --------------------------------------------------------------------------- streaming


class _OpenBins:
    """Per-bin count arrays for one index space (model or sensor pixels) while streaming:
    the open bin accumulates across pushes; completed bins are handed out."""

    def __init__(self, size: int, dtype: type):
        self.size, self.dtype = size, dtype
        self.open = np.zeros((1, size), dtype=dtype)
        self._ones = np.ones(0, dtype=dtype)

    def _ones_for(self, n: int) -> np.ndarray:
        if len(self._ones) < n:  # grows to the largest batch seen, then never reallocates
            self._ones = np.ones(max(n, 2 * len(self._ones)), dtype=self.dtype)
        return self._ones

    def add_to_open(self, index: np.ndarray) -> None:
        _scatter(self.open, index, None, None, self._ones_for(len(index)))

    def add(self, index: np.ndarray, lengths: np.ndarray) -> list[np.ndarray | None]:
        """Add events of bins ``open..open+len(lengths)-1``; return the ``len(lengths) - 1``
        completed bins (``None`` for an empty one); the last bin stays open."""
        if len(lengths) == 1:
            self.add_to_open(index)
            return []
        ones = self._ones_for(len(index))
        first, last = int(lengths[0]), int(lengths[-1])
        end_middle = len(index) - last
        _scatter(self.open, index[:first], None, None, ones)
        completed: list[np.ndarray | None] = [self.open[0]]
        middle = lengths[1:-1]
        if len(middle):
            filled = np.flatnonzero(middle)
            rows = np.zeros(len(middle), dtype=np.intp)
            rows[filled] = np.arange(len(filled))
            block = np.zeros((len(filled), self.size), dtype=self.dtype)
            _scatter(block, index[first:end_middle], rows, middle, ones)
            slots: list[np.ndarray | None] = [None] * len(middle)
            for row, b in enumerate(filled.tolist()):
                slots[b] = block[row]
            completed += slots
        self.open = np.zeros((1, self.size), dtype=self.dtype)
        _scatter(self.open, index[end_middle:], None, None, ones)
        return completed

    def close(self, n_bins: int) -> list[np.ndarray | None]:
        """Close the open bin and ``n_bins - 1`` empty ones after it."""
        completed: list[np.ndarray | None] = [self.open[0]] + [None] * (n_bins - 1)
        self.open = np.zeros((1, self.size), dtype=self.dtype)
        return completed


class Binner:
    """Streaming binner: ``push`` batches in time order and get every frame they complete.

    The open bin (the one holding the latest event) is emitted once an event or
    :meth:`advance_to` passes its end, or by :meth:`flush` at the end of the stream. Streaming
    a recording in any batch sizes and flushing gives exactly :func:`bin_events`'s frames.

    A time-reversed event (earlier than the previous one, also across batches, or earlier
    than the open bin after ``advance_to``/``t0_us``) raises :class:`TimestampOrderError`
    naming its global index, and the binner is left as before that push, so nothing is lost;
    with ``tolerate_time_reversal`` such events are dropped and counted instead.
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
        self._tables = _IndexTables(self.mapping)
        self._frame_shape = config.frame_shape
        self._sensor_shape = (2, config.sensor.height, config.sensor.width)
        self._empty = _read_only_zeros(self._frame_shape, np.float32)
        self._empty_sensor = _read_only_zeros(self._sensor_shape, np.uint16)
        self._model_bins = _OpenBins(self._tables.model_size, np.float32)
        self._sensor_bins = (
            _OpenBins(self._tables.sensor_size, np.uint32) if keep_sensor_frames else None
        )
        self._t0: int | None = None
        self._open_index = 0  # bin k currently accumulating
        self._open_events = 0
        self._open_started = False  # an event or the clock has reached the open bin
        self._ref_t: int | None = None  # no event may be earlier than this
        self._ref_text = ""
        self._counts = dict.fromkeys(
            (
                "events_in",
                "events_binned",
                "dropped_out_of_range",
                "dropped_outside_crop",
                "dropped_time_reversal",
                "bins_emitted",
            ),
            0,
        )
        if t0_us is not None:
            self._t0 = _as_int(t0_us, "t0_us")
            self._set_ref(self._t0, "t0_us, the start of bin 0")

    @property
    def stats(self) -> BinnerStats:
        return BinnerStats(**self._counts)

    @property
    def t0_us(self) -> int | None:
        """Start of bin 0: ``t0_us`` if given, else the first event's timestamp."""
        return self._t0

    @property
    def open_bin(self) -> tuple[int, int] | None:
        """``(index, t_start)`` of the bin now accumulating, ``None`` before the clock starts."""
        if self._t0 is None:
            return None
        return self._open_index, self._t0 + self._open_index * self.config.dt_us

    def _set_ref(self, t_us: int, text: str) -> None:
        if self._ref_t is None or t_us > self._ref_t:
            self._ref_t, self._ref_text = t_us, text

    def push(self, batch: EventBatch) -> list[Frame]:
        """Bin ``batch``; return every frame it completed, oldest first."""
        _check_resolution(batch, self.config)
        events = batch.events
        t = events["t"]
        keep = _time_order_keep(
            t,
            ref=self._ref_t,
            ref_text=self._ref_text,
            first_index=self._counts["events_in"],
            tolerate=self.config.tolerate_time_reversal,
        )
        self._counts["events_in"] += len(events)
        if keep is not None:
            self._counts["dropped_time_reversal"] += len(events) - int(np.count_nonzero(keep))
            events = events[keep]
            t = events["t"]
        if len(events) == 0:
            return []

        dt = self.config.dt_us
        if self._t0 is None:
            self._t0 = int(t[0])
        t_last = int(t[-1])
        k_open, k_last = self._open_index, (t_last - self._t0) // dt

        model_index = self._tables.model_index(events)
        sensor_index = self._tables.sensor_index(events, model_index) if self._sensor_bins else None
        kept = _keep_valid(model_index, t, self._tables.model_size)
        self._counts["dropped_out_of_range"] += kept.out_of_range
        self._counts["dropped_outside_crop"] += kept.outside_crop
        self._counts["events_binned"] += len(kept.index)
        in_sensor = (
            _keep_valid(sensor_index, t, self._tables.sensor_size)
            if sensor_index is not None
            else None
        )
        if k_last == k_open:  # the whole batch falls into the open bin: nothing to emit
            self._model_bins.add_to_open(kept.index)
            if self._sensor_bins is not None and in_sensor is not None:
                self._sensor_bins.add_to_open(in_sensor.index)
            self._open_events += len(kept.index)
            self._open_started = True
            self._note_last_event(batch, keep, t_last)
            return []

        lengths = _bin_lengths(kept.t, self._t0, dt, k_open, k_last)
        model_done = self._model_bins.add(kept.index, lengths)
        sensor_done: list[np.ndarray | None] | None = None
        if self._sensor_bins is not None and in_sensor is not None:
            sensor_lengths = _bin_lengths(in_sensor.t, self._t0, dt, k_open, k_last)
            sensor_done = self._sensor_bins.add(in_sensor.index, sensor_lengths)

        n_events = lengths.tolist()
        n_events[0] += self._open_events
        frames = self._frames(k_open, model_done, sensor_done, n_events)
        self._open_index = k_last
        self._open_events = n_events[-1]
        self._open_started = True
        self._note_last_event(batch, keep, t_last)
        return frames

    def _note_last_event(self, batch: EventBatch, keep: np.ndarray | None, t_last: int) -> None:
        last_kept = len(batch) - 1 if keep is None else int(np.flatnonzero(keep)[-1])
        self._ref_t = t_last  # >= the previous reference: earlier events were refused
        self._ref_text = f"event {self._counts['events_in'] - len(batch) + last_kept}"

    def advance_to(self, t_us: int) -> list[Frame]:
        """The source's clock reached ``t_us`` (e.g. a live camera with a still scene): close
        every bin ending at or before ``t_us``. Events earlier than the new open bin are then
        time-reversed. Before the clock starts (no event, no ``t0_us``) there is nothing to
        close."""
        if self._t0 is None:
            return []
        t_us = _as_int(t_us, "t_us")
        k_new = (t_us - self._t0) // self.config.dt_us
        if k_new <= self._open_index:
            return []
        # The new open bin has started only if some of its time has passed.
        return self._close_through(k_new, started=t_us > self._t0 + k_new * self.config.dt_us)

    def flush(self) -> list[Frame]:
        """End of stream: emit the open bin (a second flush emits nothing)."""
        if self._t0 is None or not self._open_started:
            return []
        return self._close_through(self._open_index + 1, started=False)

    def _close_through(self, k_new: int, *, started: bool) -> list[Frame]:
        n_bins = k_new - self._open_index
        model_done = self._model_bins.close(n_bins)
        sensor_done = self._sensor_bins.close(n_bins) if self._sensor_bins else None
        n_events = [self._open_events] + [0] * (n_bins - 1)
        frames = self._frames(self._open_index, model_done, sensor_done, n_events)
        self._open_index, self._open_events, self._open_started = k_new, 0, started
        assert self._t0 is not None
        start = self._t0 + k_new * self.config.dt_us
        self._set_ref(start, f"the start of the open bin {k_new} (earlier bins are closed)")
        return frames

    def _frames(
        self,
        k_first: int,
        model_done: list[np.ndarray | None],
        sensor_done: list[np.ndarray | None] | None,
        n_events: list[int],
    ) -> list[Frame]:
        assert self._t0 is not None
        dt, shape = self.config.dt_us, self._frame_shape
        frames = []
        for j, counts in enumerate(model_done):
            sensor_counts = None
            if sensor_done is not None:
                raw = sensor_done[j]
                sensor_counts = (
                    self._empty_sensor
                    if raw is None
                    else np.minimum(raw, _MAX_SENSOR_COUNT)
                    .astype(np.uint16)
                    .reshape(self._sensor_shape)
                )
            t_start = self._t0 + (k_first + j) * dt
            frames.append(
                Frame(
                    index=k_first + j,
                    t_start=t_start,
                    t_end=t_start + dt,
                    counts=self._empty if counts is None else counts.reshape(shape),
                    n_events=n_events[j],
                    sensor_counts=sensor_counts,
                )
            )
        self._counts["bins_emitted"] += len(frames)
        return frames


# --------------------------------------------------------------------------- offline


def bin_events(
    events: EventBatch,
    config: BinningConfig,
    *,
    t0_us: int | None = None,
    t_end_us: int | None = None,
) -> BinnedRecording:
    """Bin a whole recording: ``ceil((t_end − t0) / dt)`` frames, ``t0`` = first event and
    ``t_end`` = last event + 1 µs unless given (give them to get leading/trailing empty bins).
    Same frames as streaming the events through a :class:`Binner` and flushing. An event at
    or after ``t_end_us`` is an error (cut with :meth:`EventBatch.slice_time` instead)."""
    _check_resolution(events, config)
    tables = _IndexTables(config.mapping())
    data = events.events
    t = data["t"]
    t0_given = None if t0_us is None else _as_int(t0_us, "t0_us")
    keep = _time_order_keep(
        t,
        ref=t0_given,
        ref_text="t0_us, the start of bin 0",
        first_index=0,
        tolerate=config.tolerate_time_reversal,
    )
    reversed_count = 0
    if keep is not None:
        reversed_count = len(data) - int(np.count_nonzero(keep))
        data = data[keep]
        t = data["t"]

    t0 = t0_given if t0_given is not None else (int(t[0]) if len(t) else None)
    if t_end_us is not None:
        t_end = _as_int(t_end_us, "t_end_us")
        if t0 is not None and t_end < t0:
            raise BinningError(f"t_end_us={t_end} is before the start of bin 0 ({t0} µs)")
        if len(t) and int(t[-1]) >= t_end:
            first_late = int(np.searchsorted(t, t_end, side="left"))
            raise BinningError(
                f"event at {int(t[first_late])} µs is at or after t_end_us={t_end} "
                f"({len(t) - first_late} such events): cut the recording with "
                f"EventBatch.slice_time to bin part of it"
            )
    else:
        t_end = int(t[-1]) + 1 if len(t) else t0
    if t0 is None or t_end is None or t_end <= t0:
        n_bins = 0
        t0 = t0 if t0 is not None else 0
    else:
        n_bins = -(-(t_end - t0) // config.dt_us)

    out = np.zeros((n_bins, tables.model_size), dtype=np.float32)
    index = tables.model_index(data)
    kept = _keep_valid(index, t, tables.model_size)
    lengths = np.zeros(n_bins, dtype=np.intp)
    if n_bins:
        lengths = _bin_lengths(kept.t, t0, config.dt_us, 0, n_bins - 1)
        rows = np.arange(n_bins, dtype=np.intp)
        _scatter(out, kept.index, rows, lengths, np.ones(len(kept.index), dtype=np.float32))
    stats = BinnerStats(
        events_in=len(events),
        events_binned=len(kept.index),
        dropped_out_of_range=kept.out_of_range,
        dropped_outside_crop=kept.outside_crop,
        dropped_time_reversal=reversed_count,
        bins_emitted=n_bins,
    )
    return BinnedRecording(
        frames=out.reshape((n_bins, *config.frame_shape)),
        t_start=t0 + config.dt_us * np.arange(n_bins, dtype=np.int64),
        n_events=lengths.astype(np.int64),
        dt_us=config.dt_us,
        stats=stats,
    )
