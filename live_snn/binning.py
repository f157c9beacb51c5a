"""Events → fixed-duration count frames ``[2, H, W]`` at the model's resolution.

One core serves both uses, so that a model is trained on exactly the frames it sees live:
:class:`Binner` bins a stream batch by batch, :func:`bin_events` bins a whole recording.
Bin ``k`` covers ``[t0 + k·dt, t0 + (k+1)·dt)`` on the event clock; a bin without events is
still a bin (an all-zero frame), so a still scene yields empty frames rather than a stall.

Sensor → model mapping: a crop box in sensor pixels, then an integer downscale that sums
``f×f`` sensor pixels into one model pixel (counts are added, never averaged).

Speed: every event is mapped to a flat frame index with three int32 lookup-table gathers
(the tables, built once per mapping, fold the range check, the crop and the downscale in),
bins are found with ``searchsorted`` on the sorted timestamps, and counts are added with one
``np.add.at`` per recording, or per push (two when a push starts a new block), on flat
indices ``bin·size + pixel``. Nothing loops over events in Python. :func:`bin_events`
allocates its output once with ``np.zeros`` and builds no per-bin objects; the streaming
:class:`Binner` carves the rows of its bins out of zeroed ~1 MiB blocks and hands out views
of them, and its Python loops run over the bins it emits, to build the :class:`Frame`
objects. Dense float32 frames are the floor: allocating and first touching them costs about
as much as binning the events (see the binning section of docs/benchmarks.md).
"""

from __future__ import annotations

import dataclasses
import functools
import operator
from dataclasses import dataclass

import numpy as np

from live_snn.errors import BinningError, TimestampOrderError
from live_snn.events import EventBatch, Resolution

# Lookup-table markers for dropped events, per table dtype: (outside the crop, not a sensor
# coordinate). A kept event's flat index is < 2·H·W <= the first marker, so a sum of the three
# lookups reaching it means "in the sensor, outside the crop", and one reaching the second
# (larger than three crop markers together) means "not a sensor coordinate". Three of either
# still fit in the dtype. int32 tables (half the memory traffic of int64) serve every sensor
# up to 2**25 pixels.
_MARKERS = {np.dtype(np.int32): (1 << 26, 1 << 28), np.dtype(np.int64): (1 << 32, 1 << 48)}
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

    def for_sensor(self, sensor: Resolution) -> BinningConfig:
        """This binning for events of another sensor: same dt and model resolution; the crop
        and downscale carry over only for the same sensor, else they are chosen for it
        (centred crop, largest integer downscale). Raises :class:`BinningError` when the
        sensor cannot be mapped onto the model."""
        if sensor == self.sensor:
            return self
        return dataclasses.replace(self, sensor=sensor, crop=None, downscale=None)

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

_ONE = np.float32(1)  # what np.add.at adds per event: the frames' own dtype keeps its fast path
_BLOCK_BYTES = 1 << 20  # streaming: frames are carved out of zeroed blocks of about this size


class _IndexTables:
    """Lookup tables from raw (x, y, p) to a flat index into one frame, for the model frame
    (crop + downscale) and the sensor frame. Indexed by the raw bits (``take`` with
    ``mode="wrap"`` reads int16 x, y as uint16 and int8 p as uint8), so negative or oversized
    coordinates land on a marker instead of an IndexError. Built once per mapping
    (:func:`_tables_for`), hence read-only."""

    def __init__(self, mapping: SpatialMapping):
        model, sensor, f = mapping.model, mapping.sensor, mapping.factor
        self.model_size = 2 * model.width * model.height
        self.sensor_size = 2 * sensor.width * sensor.height  # >= model_size
        self.dtype = np.dtype(np.int32 if self.sensor_size <= 1 << 26 else np.int64)
        self.outside_crop, self.out_of_range = _MARKERS[self.dtype]
        self.model_x = self._axis(sensor.width, mapping.x0, mapping.width, f, 1)
        self.model_y = self._axis(sensor.height, mapping.y0, mapping.height, f, model.width)
        self.model_p = self._polarity(model.width * model.height)
        self.sensor_same_as_model = mapping.is_full_sensor and f == 1
        if not self.sensor_same_as_model:
            self.sensor_x = self._axis(sensor.width, 0, sensor.width, 1, 1)
            self.sensor_y = self._axis(sensor.height, 0, sensor.height, 1, sensor.width)
            self.sensor_p = self._polarity(sensor.width * sensor.height)

    def _axis(self, sensor_len: int, start: int, length: int, factor: int, stride: int):
        table = np.full(1 << 16, self.out_of_range, dtype=self.dtype)
        table[:sensor_len] = self.outside_crop
        table[start : start + length] = (np.arange(length) // factor) * stride
        table.flags.writeable = False
        return table

    def _polarity(self, plane: int) -> np.ndarray:
        table = np.full(1 << 8, self.out_of_range, dtype=self.dtype)
        table[0], table[1] = 0, plane
        table.flags.writeable = False
        return table

    def model_index(self, events: np.ndarray) -> np.ndarray:
        return self._gather(events, self.model_x, self.model_y, self.model_p)

    def sensor_index(self, events: np.ndarray, model_index: np.ndarray) -> np.ndarray:
        if self.sensor_same_as_model:
            return model_index.copy()
        return self._gather(events, self.sensor_x, self.sensor_y, self.sensor_p)

    @staticmethod
    def _gather(events: np.ndarray, tx: np.ndarray, ty: np.ndarray, tp: np.ndarray) -> np.ndarray:
        index = tx.take(events["x"], mode="wrap")
        index += ty.take(events["y"], mode="wrap")
        index += tp.take(events["p"], mode="wrap")
        return index


@functools.lru_cache(maxsize=8)
def _tables_for(mapping: SpatialMapping) -> _IndexTables:
    return _IndexTables(mapping)


@dataclass(slots=True)
class _Kept:
    """Indices (and their timestamps) of the events that go into frames, with drop counts."""

    index: np.ndarray
    t: np.ndarray
    out_of_range: int
    outside_crop: int


def _keep_valid(index: np.ndarray, t: np.ndarray, size: int, out_of_range_marker: int) -> _Kept:
    # argmax, not max: a direct C call, which matters for the many small streaming batches
    if len(index) == 0 or index[index.argmax()] < size:  # the common case: nothing to drop
        return _Kept(index, t, 0, 0)
    keep = index < size
    out_of_range = int(np.count_nonzero(index >= out_of_range_marker))
    outside_crop = len(index) - int(np.count_nonzero(keep)) - out_of_range
    return _Kept(index[keep], t[keep], out_of_range, outside_crop)


def _goes_backwards(t: np.ndarray, ref: int | None) -> bool:
    """Whether any timestamp of ``t`` (contiguous) is before its predecessor or ``ref``."""
    if ref is not None and t.item(0) < ref:
        return True
    return len(t) > 1 and np.count_nonzero(np.less(t[1:], t[:-1])) > 0


def _time_order_keep(
    t: np.ndarray, *, ref: int | None, ref_text: str, first_index: int, tolerate: bool
) -> np.ndarray | None:
    """``None`` when every timestamp is >= its predecessor (and >= ``ref``); otherwise raise
    :class:`TimestampOrderError` naming the first offender, or in tolerant mode return the
    mask of events that do not go back behind the latest earlier timestamp."""
    if len(t) == 0 or not _goes_backwards(t, ref):
        return None
    start_ok = ref is None or int(t[0]) >= ref
    if not tolerate:
        if not start_ok:
            raise TimestampOrderError(
                f"event {first_index} has timestamp {int(t[0])} µs, earlier than {ref_text} "
                f"({ref} µs): timestamps must not go backwards (set "
                f"tolerate_time_reversal=True to drop and count such events)",
                index=first_index,
            )
        i = int(np.argmax(t[1:] < t[:-1])) + 1
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
    """Number of events (``t`` sorted and contiguous) in each bin ``k_first..k_last``."""
    n_edges = k_last - k_first
    first_edge = t0 + (k_first + 1) * dt
    edges = np.arange(first_edge, first_edge + n_edges * dt, dt, dtype=np.int64)
    bounds = np.empty(n_edges + 2, dtype=np.intp)
    bounds[0], bounds[-1] = 0, len(t)
    bounds[1:-1] = t.searchsorted(edges)
    return bounds[1:] - bounds[:-1]


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


class _Rows:
    """Count arrays of one index space (model or sensor pixels) while streaming. The open
    bin's row and the rows of the bins after it are carved, in order, out of zeroed blocks
    of about ``_BLOCK_BYTES`` (``[rows, 2, H, W]``), so that one ``np.add.at`` adds a whole
    push (its events offset by their row) and a completed bin is handed out as a view of its
    row. Only bins with events use up a row: an empty bin's row is still clean and goes to
    the next bin. A block lives as long as a frame viewing it.

    ``recycle``: the caller copies every completed row out before its next call, so the
    block retired before the current one is free again and is reused, clearing just the
    counts that were added to it (for sensor frames: far fewer than their pixels)."""

    def __init__(self, shape: tuple[int, int, int], dtype: type, *, recycle: bool = False):
        self.shape, self.dtype, self.recycle = shape, dtype, recycle
        self.size = shape[0] * shape[1] * shape[2]
        self.block_rows = max(1, _BLOCK_BYTES // (self.size * np.dtype(dtype).itemsize))
        self.events = 0  # events in the open row
        self.one = np.dtype(dtype).type(1)  # of the counts' own dtype: add.at's fast path
        self._next_row = np.array([0, self.size], dtype=np.intp)
        self._added: list[tuple[int, np.ndarray]] = []  # recycle: (offset, flat indices)
        self._spare: tuple[np.ndarray, list[tuple[int, np.ndarray]]] | None = None
        self.block = self._take_block(1)
        self.flat = self.block.reshape(-1)
        self.row = 0  # the open bin's row
        self.tail = self.flat  # the flat counts from the open row on

    def _take_block(self, rows: int) -> np.ndarray:
        rows = max(rows, self.block_rows)
        if self.recycle:
            spare, self._added = self._spare, []
            if spare is not None and len(spare[0]) >= rows:
                flat = spare[0].reshape(-1)
                for offset, index in spare[1]:
                    flat[offset:][index] = 0
                return spare[0]
        return np.zeros((rows, *self.shape), dtype=self.dtype)

    def _new_block(self, rows: int) -> None:
        if self.recycle:
            retired = (self.block, self._added)
            self.block = self._take_block(rows)
            self._spare = retired
        else:
            self.block = self._take_block(rows)
        self.flat = self.block.reshape(-1)
        self.row, self.tail = 0, self.flat

    def _open_row(self, row: int) -> None:
        if row >= len(self.block):
            self._new_block(1)
        elif row != self.row:
            self.row, self.tail = row, self.flat[row * self.size :]

    def _add_from_open(self, index: np.ndarray) -> None:
        """One count at ``tail[index]`` for each of ``index`` (relative to the open row)."""
        np.add.at(self.tail, index, self.one)
        if self.recycle:
            self._added.append((self.row * self.size, index))

    def _add_from_start(self, index: np.ndarray) -> None:
        """One count at ``flat[index]`` for each of ``index`` (relative to the block)."""
        np.add.at(self.flat, index, self.one)
        if self.recycle:
            self._added.append((0, index))

    def add_to_open(self, index: np.ndarray) -> None:
        if len(index):
            self._add_from_open(index)
            self.events += len(index)

    def advance_one(self, index: np.ndarray, n0: int) -> tuple[np.ndarray | None, int]:
        """:meth:`advance` for ``m = 1`` (the first ``n0`` events in the open bin, the rest in
        the next one) with less Python. Returns the closed bin's counts and event count."""
        n_events = self.events + n0
        row, n = self.row, len(index)
        if not n_events:  # the open bin stays empty: its clean row goes to the next bin
            if n:
                self._add_from_open(index)
            self.events = n
            return None, 0
        counts = self.block[row]
        if row + 1 < len(self.block):
            if n:
                flat = self._next_row.repeat((n0, n - n0))  # intp: add.at's fast path
                flat += index
                self._add_from_open(flat)
            self.row, self.tail = row + 1, self.flat[(row + 1) * self.size :]
        else:
            if n0:
                self._add_from_open(index[:n0])
            self._new_block(1)
            if n0 < n:
                self._add_from_start(index[n0:])
        self.events = n - n0
        return counts, n_events

    def advance(
        self, index: np.ndarray, lengths: list[int]
    ) -> tuple[list[np.ndarray | None], list[int]]:
        """Add the events of bins ``open..open+m`` (``lengths[j]`` in bin ``open+j``,
        ``index`` in bin order), close the first ``m`` of these bins and make the last one
        the open bin. Returns the closed bins' counts (``None`` for an empty bin) and their
        event counts."""
        size, m, n0 = self.size, len(lengths) - 1, lengths[0]
        n_events = [self.events + n0, *lengths[1:m]]
        counts: list[np.ndarray | None] = [self.block[self.row] if n_events[0] else None]
        # Rows for bins open+1..open+m, from the first clean one on: one per bin with events,
        # and one for the new open bin in any case.
        first = row = self.row + 1 if n_events[0] else self.row
        rows: list[int | None] = []
        for n in lengths[1:m]:
            if n:
                rows.append(row)
                row += 1
            else:
                rows.append(None)
        rows.append(row)
        if row < len(self.block):  # all in this block: one add.at
            if len(index):
                base = self.row
                offsets = [0, *(0 if r is None else (r - base) * size for r in rows)]
                flat = np.repeat(offsets, lengths)
                flat += index
                self._add_from_open(flat)
        else:  # the open bin's row ends this block: the later bins start a new one
            if n0:
                self._add_from_open(index[:n0])
            rows = [None if r is None else r - first for r in rows]
            self._new_block(rows[-1] + 1)
            if n0 < len(index):
                offsets = [0 if r is None else r * size for r in rows]
                flat = np.repeat(offsets, lengths[1:])
                flat += index[n0:]
                self._add_from_start(flat)
        block = self.block
        counts += [None if r is None else block[r] for r in rows[:-1]]
        self._open_row(rows[-1])
        self.events = lengths[m]
        return counts, n_events

    def close(self, n_bins: int) -> tuple[list[np.ndarray | None], list[int]]:
        """Close the open bin and ``n_bins - 1`` empty ones after it; returns as
        :meth:`advance` does."""
        counts: list[np.ndarray | None] = [None] * n_bins
        n_events = [self.events] + [0] * (n_bins - 1)
        if self.events:
            counts[0] = self.block[self.row]
            self._open_row(self.row + 1)
            self.events = 0
        return counts, n_events


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
        self._tables = _tables_for(self.mapping)
        self._dt = config.dt_us
        self._sensor = config.sensor
        self._sensor_shape = (2, config.sensor.height, config.sensor.width)
        self._empty = _read_only_zeros(config.frame_shape, np.float32)
        self._empty_sensor = _read_only_zeros(self._sensor_shape, np.uint16)
        self._model_rows = _Rows(config.frame_shape, np.float32)
        # Raw sensor counts are uint32 (clipped to uint16 when copied out), so their rows
        # never leave the binner and can be recycled.
        self._sensor_rows = (
            _Rows(self._sensor_shape, np.uint32, recycle=True) if keep_sensor_frames else None
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
            self._t0 = _as_int(t0_us, "t0_us")
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
            _check_resolution(batch, self.config)
        events = batch.events
        n = len(events)
        if n == 0:
            return []
        t = events["t"].copy()  # contiguous: fast comparisons and searchsorted
        first_index = self._events_in
        last_kept = n - 1
        if _goes_backwards(t, self._ref_t):
            ref_text = self._ref_text
            keep = _time_order_keep(
                t,
                ref=self._ref_t,
                ref_text=f"event {self._ref_event}" if ref_text is None else ref_text,
                first_index=first_index,
                tolerate=self.config.tolerate_time_reversal,
            )
            assert keep is not None  # strict mode raised
            kept_positions = np.flatnonzero(keep)
            self._events_in += n
            self._dropped_time_reversal += n - len(kept_positions)
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
            in_sensor = _keep_valid(sensor_index, t, tables.sensor_size, tables.out_of_range)
        if index[index.argmax()] < tables.model_size:  # the common case: nothing to drop
            kept_t = t
        else:
            kept = _keep_valid(index, t, tables.model_size, tables.out_of_range)
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

    def _lengths(self, t: np.ndarray, k_open: int, k_last: int) -> list[int]:
        """Events (``t`` sorted, contiguous) in each bin ``k_open..k_last``."""
        if k_last == k_open + 1:
            n0 = int(t.searchsorted(self._t0 + k_last * self._dt))
            return [n0, len(t) - n0]
        return _bin_lengths(t, self._t0, self._dt, k_open, k_last).tolist()

    def advance_to(self, t_us: int) -> list[Frame]:
        """The source's clock reached ``t_us`` (e.g. a live camera with a still scene): close
        every bin ending at or before ``t_us``. Events earlier than the new open bin are then
        time-reversed. Before the clock starts (no event, no ``t0_us``) there is nothing to
        close."""
        if self._t0 is None:
            return []
        t_us = _as_int(t_us, "t_us")
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
            if n <= _MAX_SENSOR_COUNT
            else np.minimum(raw, _MAX_SENSOR_COUNT).astype(np.uint16)
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
    tables = _tables_for(config.mapping())
    data = events.events
    t = np.ascontiguousarray(data["t"])  # fast comparisons and searchsorted
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
        data, t = data[keep], t[keep]

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

    size = tables.model_size
    # calloc: pages that no event touches cost nothing until they are read.
    out = np.zeros((n_bins, *config.frame_shape), dtype=np.float32)
    kept = _keep_valid(tables.model_index(data), t, size, tables.out_of_range)
    lengths = np.zeros(n_bins, dtype=np.intp)
    if n_bins:
        lengths = _bin_lengths(kept.t, t0, config.dt_us, 0, n_bins - 1)
        if len(kept.index):
            # One flat index `bin·size + pixel` per event (events are in bin order), then
            # one np.add.at over the whole recording.
            flat = np.repeat(np.arange(0, n_bins * size, size, dtype=np.intp), lengths)
            flat += kept.index
            np.add.at(out.reshape(-1), flat, _ONE)
    stats = BinnerStats(
        events_in=len(events),
        events_binned=len(kept.index),
        dropped_out_of_range=kept.out_of_range,
        dropped_outside_crop=kept.outside_crop,
        dropped_time_reversal=reversed_count,
        bins_emitted=n_bins,
    )
    return BinnedRecording(
        frames=out,
        t_start=t0 + config.dt_us * np.arange(n_bins, dtype=np.int64),
        n_events=lengths.astype(np.int64),
        dt_us=config.dt_us,
        stats=stats,
    )
