"""What the streaming :class:`~live_snn.binning.streaming.Binner` and the offline
:func:`~live_snn.binning.offline.bin_events` share, so that both give the same frames: the
records they produce, the lookup tables that map raw (x, y, p) to a flat model or sensor
pixel index, the drop counts, the time-order check and the events per bin.

Speed: every event is mapped to a flat frame index with three int32 lookup-table gathers
(the tables, built once per mapping, fold the range check, the crop and the downscale in)
and bins are found with ``searchsorted`` on the sorted timestamps. Nothing loops over events
in Python.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from live_snn.binning.config import BinningConfig, SpatialMapping
from live_snn.errors import BinningError, TimestampOrderError
from live_snn.events import EventBatch

# Lookup-table markers for dropped events, per table dtype: (outside the crop, not a sensor
# coordinate). A kept event's flat index is < 2·H·W <= the first marker, so a sum of the three
# lookups reaching it means "in the sensor, outside the crop", and one reaching the second
# (larger than three crop markers together) means "not a sensor coordinate". Three of either
# still fit in the dtype. int32 tables (half the memory traffic of int64) serve every sensor
# up to 2**25 pixels.
_MARKERS = {np.dtype(np.int32): (1 << 26, 1 << 28), np.dtype(np.int64): (1 << 32, 1 << 48)}
MAX_SENSOR_COUNT = np.iinfo(np.uint16).max


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



ONE = np.float32(1)  # what np.add.at adds per event: the frames' own dtype keeps its fast path


class IndexTables:
    """Lookup tables from raw (x, y, p) to a flat index into one frame, for the model frame
    (crop + downscale) and the sensor frame. Indexed by the raw bits (``take`` with
    ``mode="wrap"`` reads int16 x, y as uint16 and int8 p as uint8), so negative or oversized
    coordinates land on a marker instead of an IndexError. Built once per mapping
    (:func:`tables_for`), hence read-only."""

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
def tables_for(mapping: SpatialMapping) -> IndexTables:
    return IndexTables(mapping)


@dataclass(slots=True)
class Kept:
    """Indices (and their timestamps) of the events that go into frames, with drop counts."""

    index: np.ndarray
    t: np.ndarray
    out_of_range: int
    outside_crop: int


def keep_valid(index: np.ndarray, t: np.ndarray, size: int, out_of_range_marker: int) -> Kept:
    # argmax, not max: a direct C call, which matters for the many small streaming batches
    if len(index) == 0 or index[index.argmax()] < size:  # the common case: nothing to drop
        return Kept(index, t, 0, 0)
    keep = index < size
    out_of_range = int(np.count_nonzero(index >= out_of_range_marker))
    outside_crop = len(index) - int(np.count_nonzero(keep)) - out_of_range
    return Kept(index[keep], t[keep], out_of_range, outside_crop)


def goes_backwards(t: np.ndarray, ref: int | None) -> bool:
    """Whether any timestamp of ``t`` (contiguous) is before its predecessor or ``ref``."""
    if ref is not None and t.item(0) < ref:
        return True
    return len(t) > 1 and np.count_nonzero(np.less(t[1:], t[:-1])) > 0


def time_order_keep(
    t: np.ndarray, *, ref: int | None, ref_text: str, first_index: int, tolerate: bool
) -> np.ndarray | None:
    """``None`` when every timestamp is >= its predecessor (and >= ``ref``); otherwise raise
    :class:`TimestampOrderError` naming the first offender, or in tolerant mode return the
    mask of events that do not go back behind the latest earlier timestamp."""
    if len(t) == 0 or not goes_backwards(t, ref):
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


def bin_lengths(t: np.ndarray, t0: int, dt: int, k_first: int, k_last: int) -> np.ndarray:
    """Number of events (``t`` sorted and contiguous) in each bin ``k_first..k_last``."""
    n_edges = k_last - k_first
    first_edge = t0 + (k_first + 1) * dt
    edges = np.arange(first_edge, first_edge + n_edges * dt, dt, dtype=np.int64)
    bounds = np.empty(n_edges + 2, dtype=np.intp)
    bounds[0], bounds[-1] = 0, len(t)
    bounds[1:-1] = t.searchsorted(edges)
    return bounds[1:] - bounds[:-1]


def read_only_zeros(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    zeros = np.zeros(shape, dtype=dtype)
    zeros.flags.writeable = False
    return zeros


def check_resolution(batch: EventBatch, config: BinningConfig) -> None:
    if batch.resolution != config.sensor:
        raise BinningError(
            f"event batch is from a {batch.resolution} sensor but the binning is configured "
            f"for {config.sensor}"
        )

