"""Plain AEDAT4 recordings, each one session; labelled when a DVS128-Gesture-style
``NAME_labels.csv`` lies next to it. Each file is binned for its own sensor."""

from __future__ import annotations

from pathlib import Path

from live_snn.binning import BinningConfig
from live_snn.errors import SourceError
from live_snn.events import EventBatch, LabelTrack, Resolution
from live_snn.labels import labels_path_for, read_labels_csv
from live_snn.train.data_spec import DataSpec
from live_snn.train.sessions import LabelledSession, bin_session


def read_all_events(path: Path) -> tuple[EventBatch, Resolution]:
    """Every event of an AEDAT4 file (one batch) and the file's sensor resolution."""
    from live_snn.sources.aedat4 import Aedat4Source

    with Aedat4Source(path) as source:
        batches = list(source)
        events = EventBatch.concatenate(batches) if batches else EventBatch.empty(
            source.resolution)
    return events, source.resolution


def sidecar_labels(path: Path) -> LabelTrack | None:
    csv_path = labels_path_for(path)
    return read_labels_csv(csv_path) if csv_path.is_file() else None


def load_files(spec: DataSpec, binning: BinningConfig) -> list[LabelledSession]:
    sessions = []
    for path in spec.paths:
        events, sensor = read_all_events(path)
        if len(events) == 0:
            raise SourceError(f"{path} holds no events")
        sessions.append(bin_session(path.stem, events, sidecar_labels(path),
                                    binning.for_sensor(sensor),
                                    t0_us=events.t_first, t_end_us=events.t_last + 1))
    return sessions
