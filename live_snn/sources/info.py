"""What a recording holds: sensor, resolution, duration, events, mean and peak event rate,
streams. Backs ``live-snn info``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from live_snn.events import EventBatch, Resolution
from live_snn.sources.spec import open_recording

DEFAULT_PEAK_WINDOW_US = 10_000


@dataclass(frozen=True)
class RecordingInfo:
    path: str
    format: str
    sensor: str
    resolution: Resolution
    events: int
    first_us: int | None
    last_us: int | None
    peak_window_us: int
    peak_rate_eps: float  # events per second in the busiest window
    streams: dict[str, bool] = field(default_factory=dict)
    label_segments: int | None = None

    @property
    def duration_us(self) -> int:
        return 0 if self.first_us is None else self.last_us - self.first_us

    @property
    def mean_rate_eps(self) -> float:
        return self.events / (self.duration_us / 1e6) if self.duration_us > 0 else 0.0

    def to_dict(self) -> dict:
        out = asdict(self)
        out["resolution"] = [self.resolution.width, self.resolution.height]
        out["duration_us"] = self.duration_us
        out["mean_rate_eps"] = self.mean_rate_eps
        return out


class WindowCounter:
    """Events per fixed window over a whole stream, batch by batch (vectorised)."""

    def __init__(self, window_us: int) -> None:
        self.window_us = int(window_us)
        self.t0: int | None = None
        self.counts = np.zeros(0, dtype=np.int64)

    def add(self, batch: EventBatch) -> None:
        if not len(batch):
            return
        if self.t0 is None:
            self.t0 = int(batch.t[0])
        # time that steps back before the first event is counted in the first window
        index = np.maximum((batch.t - self.t0) // self.window_us, 0)
        lo = int(index.min())
        counts = np.bincount(index - lo)
        if lo + len(counts) > len(self.counts):
            self.counts = np.concatenate(
                [self.counts, np.zeros(lo + len(counts) - len(self.counts), dtype=np.int64)]
            )
        self.counts[lo : lo + len(counts)] += counts

    @property
    def peak_rate_eps(self) -> float:
        return float(self.counts.max()) * 1e6 / self.window_us if len(self.counts) else 0.0


def recording_info(
    path: str | Path, *, peak_window_us: int = DEFAULT_PEAK_WINDOW_US
) -> RecordingInfo:
    """Read a whole recording (any format :func:`open_recording` reads) once."""
    from live_snn.sources.aedat4 import Aedat4Source
    from live_snn.sources.dvs_gesture import DvsGestureSource
    from live_snn.sources.scanned import ScannedFileSource

    source = open_recording(str(path))
    with source:
        counter = WindowCounter(peak_window_us)
        n_events, first, last = 0, None, None
        for batch in source:
            counter.add(batch)
            n_events += len(batch)
            if len(batch):
                first = int(batch.t.min()) if first is None else min(first, int(batch.t.min()))
                last = int(batch.t.max()) if last is None else max(last, int(batch.t.max()))
        if isinstance(source, Aedat4Source):
            fmt, sensor, streams = "AEDAT4", source.camera_name, dict(source.streams)
        elif isinstance(source, ScannedFileSource):
            fmt, sensor = source.format_name, source.sensor
            streams = {"events": True, "labels": source.labels is not None}
        elif isinstance(source, DvsGestureSource):
            fmt, sensor = "AEDAT 3.1 (DVS128 Gesture)", source.sensor
            streams = {"events": True, "labels": source.labels is not None}
        else:
            fmt, sensor, streams = "N-MNIST binary", "ATIS (N-MNIST, 34x34 crop)", {"events": True}
        labels = source.labels
        return RecordingInfo(
            path=str(path),
            format=fmt,
            sensor=sensor,
            resolution=source.resolution,
            events=n_events,
            first_us=first,
            last_us=last,
            peak_window_us=int(peak_window_us),
            peak_rate_eps=counter.peak_rate_eps,
            streams=streams,
            label_segments=len(labels.segments) if labels is not None else None,
        )
