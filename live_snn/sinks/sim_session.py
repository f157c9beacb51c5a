"""Simulated sessions on disk, in the layout of DVS128 Gesture: ``NAME.aedat4`` (events, as
dv-processing reads them) next to ``NAME_labels.csv`` (``class,startTime_usec,endTime_usec``,
classes numbered from 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from live_snn.errors import LiveSnnError
from live_snn.events import EventBatch
from live_snn.labels import write_labels_csv
from live_snn.sim.simulator import SimSession
from live_snn.sinks.aedat4_writer import Aedat4Writer

CAMERA_NAME = "DVS128Sim"


def write_aedat4(batch: EventBatch, path: str | Path, *, camera_name: str = CAMERA_NAME) -> Path:
    """Write events to an AEDAT4 file (readable by dv-processing's ``MonoCameraRecording``)
    with the project's vectorised writer, in packets rather than event by event."""
    path = Path(path)
    try:
        with Aedat4Writer(path, batch.resolution, camera_name) as writer:
            writer.write(batch)
    except OSError as exc:
        raise LiveSnnError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def write_session(session: SimSession, directory: str | Path, name: str) -> tuple[Path, Path]:
    """Write ``DIR/NAME.aedat4`` and ``DIR/NAME_labels.csv``; returns both paths."""
    if not name or Path(name).name != name:
        raise LiveSnnError(f"session name must be a plain file name, got {name!r}")
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LiveSnnError(f"cannot create output folder {directory}: {exc.strerror}") from exc
    events = session.events
    if len(events) and np.any(np.diff(events.t) < 0):
        raise LiveSnnError(f"session {name!r}: events are not in time order, refusing to write")
    aedat = write_aedat4(events, directory / f"{name}.aedat4")
    labels = write_labels_csv(session.labels, directory / f"{name}_labels.csv")
    return aedat, labels
