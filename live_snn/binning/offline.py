"""The offline :func:`bin_events`: a whole recording binned at once, into one array
allocated once with ``np.zeros`` (no per-bin objects) and filled by one ``np.add.at`` on flat
indices ``bin·size + pixel``. Same frames as streaming it through a
:class:`~live_snn.binning.streaming.Binner` and flushing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from live_snn.binning.config import BinningConfig, as_int, bins_in
from live_snn.binning.core import (
    ONE,
    BinnerStats,
    bin_lengths,
    check_resolution,
    keep_valid,
    tables_for,
    time_order_keep,
)
from live_snn.errors import BinningError
from live_snn.events import EventBatch


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
    check_resolution(events, config)
    tables = tables_for(config.mapping())
    data = events.events
    t = np.ascontiguousarray(data["t"])  # fast comparisons and searchsorted
    t0_given = None if t0_us is None else as_int(t0_us, "t0_us")
    keep = time_order_keep(
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
        t_end = as_int(t_end_us, "t_end_us")
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
        n_bins = bins_in(t_end - t0, config.dt_us)

    size = tables.model_size
    # calloc: pages that no event touches cost nothing until they are read.
    out = np.zeros((n_bins, *config.frame_shape), dtype=np.float32)
    kept = keep_valid(tables.model_index(data), t, size, tables.out_of_range)
    lengths = np.zeros(n_bins, dtype=np.intp)
    if n_bins:
        lengths = bin_lengths(kept.t, t0, config.dt_us, 0, n_bins - 1)
        if len(kept.index):
            # One flat index `bin·size + pixel` per event (events are in bin order), then
            # one np.add.at over the whole recording.
            flat = np.repeat(np.arange(0, n_bins * size, size, dtype=np.intp), lengths)
            flat += kept.index
            np.add.at(out.reshape(-1), flat, ONE)
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

