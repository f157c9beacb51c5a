"""What a stretch of DVS events looks like, as numbers: the statistics that
``live-snn bench realism`` puts side by side for simulated and real recordings.

Every statistic is computed the same way for both sides, from events alone (no labels, no
knowledge of the scene), on a 128x128 sensor:

* how much: event rate, ON fraction, active pixels per 40 ms;
* where: x / y percentiles and a normalised density map;
* what moves: the extent of the active region and the speed of its centroid;
* the sensor: per-pixel inter-event intervals (the refractory floor and the median),
  the rate of isolated events (background activity: events with no neighbour event in the
  previous 10 ms), the quietest 40 ms of the stretch, and hot pixels.

All of it is vectorised; nothing loops over events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_US = 40_000  # the frame length the statistics (and the judge) look at
ISOLATION_US = 10_000  # an event with no neighbour event within this is background activity
HOT_PIXEL_HZ = 100.0  # a pixel firing isolated events faster than this is hot


@dataclass(frozen=True)
class StatSpec:
    """One row of the comparison table: a key of :func:`recording_statistics`' result, how
    to print it, and what it means."""

    key: str
    label: str
    unit: str
    digits: int


STATS: tuple[StatSpec, ...] = (
    StatSpec("rate_kev_s", "event rate", "k events/s", 1),
    StatSpec("on_fraction", "ON fraction", "", 2),
    StatSpec("active_px_40ms", "active pixels per 40 ms (median)", "px", 0),
    StatSpec("x_p5", "x 5th percentile", "px", 0),
    StatSpec("x_p50", "x median", "px", 0),
    StatSpec("x_p95", "x 95th percentile", "px", 0),
    StatSpec("y_p5", "y 5th percentile", "px", 0),
    StatSpec("y_p50", "y median", "px", 0),
    StatSpec("y_p95", "y 95th percentile", "px", 0),
    StatSpec("extent_px", "extent of the moving region per 40 ms (median)", "px", 0),
    StatSpec("speed_px_s", "centroid speed of each image half (median)", "px/s", 0),
    StatSpec("isi_p1_us", "per-pixel inter-event interval, 1st percentile", "µs", 0),
    StatSpec("isi_p50_ms", "per-pixel inter-event interval, median", "ms", 1),
    StatSpec("isolated_hz", "isolated events per pixel (background activity)", "Hz", 2),
    StatSpec("quiet_kev_s", "quietest 40 ms (10th percentile of frames)", "k events/s", 1),
    StatSpec("hot_pixels", "hot pixels (isolated events > 100 Hz)", "", 0),
)


def isolated_mask(t: np.ndarray, x: np.ndarray, y: np.ndarray, width: int, height: int,
                  window_us: int = ISOLATION_US) -> np.ndarray:
    """True for each event none of whose 8 neighbouring pixels had an event in the
    ``window_us`` before it (earlier in the stream); ``t`` must be non-decreasing.

    Vectorised: events are sorted by (pixel, stream position), and for each of the eight
    neighbour offsets a binary search finds the neighbour's latest earlier event.
    """
    n = t.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    padded_width = width + 2
    pixel = (y.astype(np.int64) + 1) * padded_width + (x.astype(np.int64) + 1)
    position = np.arange(n, dtype=np.int64)
    keys = np.sort(pixel * n + position)
    t = t.astype(np.int64)
    supported = np.zeros(n, dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dx == 0 and dy == 0:
                continue
            neighbour = pixel + dy * padded_width + dx
            found = np.searchsorted(keys, neighbour * n + position, side="left") - 1
            candidate = keys[np.maximum(found, 0)]
            is_neighbour = (found >= 0) & (candidate // n == neighbour)
            supported |= is_neighbour & (t - t[candidate % n] < window_us)
    return ~supported


def _per_pixel_intervals(t: np.ndarray, pixel: np.ndarray) -> np.ndarray:
    """Intervals between consecutive events of the same pixel (any polarity), µs."""
    order = np.lexsort((t, pixel))
    t_sorted, pixel_sorted = t[order], pixel[order]
    same = pixel_sorted[1:] == pixel_sorted[:-1]
    return (t_sorted[1:] - t_sorted[:-1])[same]


def _centroid_speeds(t: np.ndarray, x: np.ndarray, y: np.ndarray, t0: int, width: int,
                     bin_us: int = 10_000, min_events: int = 30) -> np.ndarray:
    """Speed (px/s) of the event centroid of each image half between consecutive 10 ms bins
    where both bins have enough events: how fast the moving parts move."""
    speeds = []
    b = (t - t0) // bin_us
    n_bins = int(b.max()) + 1 if b.size else 0
    for half in (x < width // 2, x >= width // 2):
        counts = np.bincount(b[half], minlength=n_bins).astype(np.float64)
        sx = np.bincount(b[half], weights=x[half], minlength=n_bins)
        sy = np.bincount(b[half], weights=y[half], minlength=n_bins)
        ok = counts >= min_events
        cx, cy = sx / np.maximum(counts, 1), sy / np.maximum(counts, 1)
        both = ok[1:] & ok[:-1]
        step = np.hypot(np.diff(cx), np.diff(cy))[both]
        speeds.append(step * (1e6 / bin_us))
    return np.concatenate(speeds) if speeds else np.zeros(0)


def recording_statistics(events: np.ndarray, t0: int, t1: int, width: int = 128,
                         height: int = 128) -> dict[str, float]:
    """The statistics of :data:`STATS` for ``events`` (``t``, ``x``, ``y``, ``p`` fields,
    time-ordered) over ``[t0, t1)``; NaN where a statistic has no data."""
    inside = (events["t"] >= t0) & (events["t"] < t1)
    ev = events[inside]
    t = ev["t"].astype(np.int64)
    x = ev["x"].astype(np.int64)
    y = ev["y"].astype(np.int64)
    duration_s = (t1 - t0) / 1e6
    n = t.size
    nan = float("nan")
    stats: dict[str, float] = {key.key: nan for key in STATS}
    if n == 0 or duration_s <= 0:
        return stats | {"rate_kev_s": 0.0, "hot_pixels": 0.0}
    pixel = y * width + x
    stats["rate_kev_s"] = n / duration_s / 1e3
    stats["on_fraction"] = float(np.mean(ev["p"] > 0))

    frame = (t - t0) // FRAME_US
    n_frames = int(-(-(t1 - t0) // FRAME_US))
    distinct = np.unique(frame * (width * height) + pixel) // (width * height)
    active = np.bincount(distinct, minlength=n_frames)
    stats["active_px_40ms"] = float(np.median(active))
    counts = np.bincount(frame, minlength=n_frames)
    stats["quiet_kev_s"] = float(np.percentile(counts, 10)) / (FRAME_US / 1e6) / 1e3

    for name, values in (("x", x), ("y", y)):
        p5, p50, p95 = np.percentile(values, [5, 50, 95])
        stats[f"{name}_p5"], stats[f"{name}_p50"], stats[f"{name}_p95"] = float(p5), float(p50), float(p95)

    # Extent of the active region per frame: the larger of its 5-95 % spans in x and y.
    order = np.argsort(frame, kind="stable")
    starts = np.searchsorted(frame[order], np.arange(n_frames))
    extents = []
    for f in np.flatnonzero(counts >= 50):  # one small percentile call per frame, not per event
        members = order[starts[f]:starts[f] + counts[f]]
        span_x = np.subtract(*np.percentile(x[members], [95, 5]))
        span_y = np.subtract(*np.percentile(y[members], [95, 5]))
        extents.append(max(span_x, span_y))
    stats["extent_px"] = float(np.median(extents)) if extents else nan

    speeds = _centroid_speeds(t, x, y, t0, width)
    stats["speed_px_s"] = float(np.median(speeds)) if speeds.size else nan

    intervals = _per_pixel_intervals(t, pixel)
    if intervals.size:
        stats["isi_p1_us"] = float(np.percentile(intervals, 1))
        stats["isi_p50_ms"] = float(np.median(intervals)) / 1e3

    isolated = isolated_mask(t, x, y, width, height)
    stats["isolated_hz"] = float(isolated.sum()) / (width * height) / duration_s
    per_pixel = np.bincount(pixel[isolated], minlength=width * height) / duration_s
    stats["hot_pixels"] = float(np.sum(per_pixel > HOT_PIXEL_HZ))
    return stats


def density_map(events: np.ndarray, width: int = 128, height: int = 128) -> np.ndarray:
    """Where events fall: counts per pixel ``[height, width]`` normalised to sum 1."""
    counts = np.bincount(
        events["y"].astype(np.int64) * width + events["x"].astype(np.int64),
        minlength=width * height,
    ).reshape(height, width).astype(np.float64)
    total = counts.sum()
    return counts / total if total else counts
