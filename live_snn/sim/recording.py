"""Simulated sessions on disk, in the layout of DVS128 Gesture: ``NAME.aedat4`` (events, as
dv-processing reads them) next to ``NAME_labels.csv`` (``class,startTime_usec,endTime_usec``,
classes numbered from 1)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.errors import CorruptFileError, LiveSnnError
from live_snn.events import EventBatch, LabelSegment, LabelTrack
from live_snn.sim.simulator import SimSession
from live_snn.sources.aedat4_writer import Aedat4Writer

LABELS_HEADER = ("class", "startTime_usec", "endTime_usec")
CAMERA_NAME = "DVS128Sim"


def write_labels_csv(labels: LabelTrack, path: str | Path) -> Path:
    """Write a label track as DVS128 Gesture writes it (1-based classes, µs)."""
    path = Path(path)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(LABELS_HEADER)
        for seg in labels.segments:
            writer.writerow((seg.label + 1, seg.start_us, seg.end_us))
    return path


def read_labels_csv(
    path: str | Path, class_names: tuple[str, ...] = DVS_GESTURE_CLASSES
) -> LabelTrack:
    """Read a DVS128-Gesture-style label file into a :class:`LabelTrack` (0-based labels).

    Raises :class:`CorruptFileError` naming the file, line and value for a wrong header, a
    class outside ``1..len(class_names)``, a non-integer field or an empty segment.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise CorruptFileError(f"cannot read label file {path}: {exc.strerror}", path=str(path)) from exc
    rows = list(csv.reader(text.splitlines()))
    if not rows or tuple(cell.strip() for cell in rows[0]) != LABELS_HEADER:
        found = ",".join(rows[0]) if rows else "an empty file"
        raise CorruptFileError(
            f"{path}: line 1 must be the header {','.join(LABELS_HEADER)!r}, found {found!r}",
            path=str(path),
        )
    segments = []
    for line_no, row in enumerate(rows[1:], start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 3:
            raise CorruptFileError(
                f"{path}: line {line_no} has {len(row)} fields, expected 3 ({','.join(LABELS_HEADER)})",
                path=str(path),
            )
        try:
            label, start, end = (int(cell) for cell in row)
        except ValueError:
            raise CorruptFileError(
                f"{path}: line {line_no} must hold three integers, found {','.join(row)!r}",
                path=str(path),
            ) from None
        if not 1 <= label <= len(class_names):
            raise CorruptFileError(
                f"{path}: line {line_no}: class {label} outside 1..{len(class_names)}",
                path=str(path),
            )
        if end <= start:
            raise CorruptFileError(
                f"{path}: line {line_no}: segment ends at {end} µs, not after its start {start} µs",
                path=str(path),
            )
        segments.append(LabelSegment(label - 1, start, end))
    return LabelTrack(tuple(segments), tuple(class_names))


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
