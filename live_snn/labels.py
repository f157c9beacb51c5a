"""Label tracks on disk, in DVS128 Gesture's CSV form: a header row
``class,startTime_usec,endTime_usec`` then one row per gesture, classes numbered from 1, times in
µs. Real DVS128 Gesture files, the simulator's sessions and the bundled demo recordings all use
it, so there is one reader and one writer."""

from __future__ import annotations

import csv
from pathlib import Path

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.errors import CorruptFileError
from live_snn.events import LabelSegment, LabelTrack

LABELS_HEADER = ("class", "startTime_usec", "endTime_usec")


def labels_path_for(recording: str | Path) -> Path:
    """``user01_fluorescent.aedat`` -> ``user01_fluorescent_labels.csv`` beside it."""
    recording = Path(recording)
    return recording.with_name(f"{recording.stem}_labels.csv")


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
