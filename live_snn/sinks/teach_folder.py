"""A taught session on disk: what ``live-snn teach record`` and the window's Teach mode
write, and what ``live-snn teach train`` and ``--data teach:DIR`` read.

One folder per session, in DVS128 Gesture's layout: ``teach.aedat4`` (every event of the
session, takes and the time between them), ``teach_labels.csv`` (``class,startTime_usec,
endTime_usec``, one row per kept take, classes numbered from 1 in the order of the JSON's
``class_names``) and ``teach.json`` (class names, the plan, every take with what became of
it, the source). The reader refuses a folder that is not one, or whose labels do not fit its
recording, with one line naming the file and what is wrong.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from live_snn.errors import CorruptFileError, LiveSnnError
from live_snn.events import LabelTrack
from live_snn.labels import read_labels_csv, write_labels_csv
from live_snn.model.checkpoint_checks import MAX_CLASS_NAME_CHARS

RECORDING_FILE = "teach.aedat4"
PARTIAL_RECORDING_FILE = "teach.partial.aedat4"   # while recording (dv-processing reads it)
LABELS_FILE = "teach_labels.csv"
META_FILE = "teach.json"
FORMAT = "live_snn.teach/1"


class TeachFolderError(LiveSnnError):
    """A folder that is not a taught session, or one whose parts do not fit together."""


@dataclass(frozen=True)
class TeachFolder:
    """A taught session read back: where its parts are, its classes and its labels."""

    path: Path
    class_names: tuple[str, ...]
    labels: LabelTrack               # kept takes, 0-based labels into class_names
    meta: dict[str, Any]

    @property
    def recording(self) -> Path:
        return self.path / RECORDING_FILE

    def takes_per_class(self) -> dict[str, int]:
        counts = dict.fromkeys(self.class_names, 0)
        for segment in self.labels.segments:
            counts[self.class_names[segment.label]] += 1
        return counts


def prepare_folder(folder: str | Path) -> Path:
    """Create ``folder`` if needed; refuse one that already holds a session (nothing is
    ever overwritten)."""
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise TeachFolderError(f"{folder} is a file, not a folder")
    taken = [name for name in (RECORDING_FILE, PARTIAL_RECORDING_FILE, LABELS_FILE, META_FILE)
             if (folder / name).exists()]
    if taken:
        raise TeachFolderError(f"{folder} already holds a taught session ({', '.join(taken)}); "
                               "choose another folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TeachFolderError(f"cannot create {folder}: {exc.strerror}") from None
    return folder


def write_session_files(folder: Path, labels: LabelTrack, meta: dict[str, Any]) -> None:
    """The labels CSV and the JSON, each written whole or not at all."""
    csv_tmp = folder / (LABELS_FILE + ".tmp")
    write_labels_csv(labels, csv_tmp)
    os.replace(csv_tmp, folder / LABELS_FILE)
    json_tmp = folder / (META_FILE + ".tmp")
    json_tmp.write_text(json.dumps({"format": FORMAT, **meta}, indent=1) + "\n")
    os.replace(json_tmp, folder / META_FILE)


def read_teach_folder(folder: str | Path, *, span_us: tuple[int, int] | None = None
                      ) -> TeachFolder:
    """Read a taught session; with ``span_us`` (first, last event of its recording) also
    check that every label lies inside the recording."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise TeachFolderError(f"{folder} is not a folder (give the folder a taught session "
                               "was written to)")
    expected = f"expected {RECORDING_FILE}, {LABELS_FILE} and {META_FILE}"
    for name, what in ((META_FILE, "class names"), (LABELS_FILE, "labels"),
                       (RECORDING_FILE, "recording")):
        if not (folder / name).is_file():
            partial = " (it has only a partial recording: the session was not finished)" if (
                name == RECORDING_FILE and (folder / PARTIAL_RECORDING_FILE).is_file()) else ""
            raise TeachFolderError(f"{folder} has no {name} ({what}): not a taught session "
                                   f"folder{partial}; {expected}")
    meta = _read_meta(folder / META_FILE)
    class_names = tuple(meta["class_names"])
    labels = read_labels_csv(folder / LABELS_FILE, class_names)
    if span_us is not None:
        check_labels_inside(labels, span_us, folder / LABELS_FILE)
    return TeachFolder(folder, class_names, labels, meta)


def check_labels_inside(labels: LabelTrack, span_us: tuple[int, int], path: Path) -> None:
    first, last = span_us
    for line, segment in enumerate(labels.segments, start=2):
        if segment.start_us < first or segment.end_us > last + 1:
            raise CorruptFileError(
                f"{path}: line {line}: take {segment.start_us}..{segment.end_us} µs lies "
                f"outside the recording ({first}..{last} µs)", path=str(path))


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptFileError(f"{path}: not readable JSON ({exc})", path=str(path)) from None
    names = meta.get("class_names") if isinstance(meta, dict) else None
    if not (isinstance(names, list) and names and all(isinstance(n, str) and n.strip()
                                                      for n in names)):
        raise CorruptFileError(f"{path}: needs \"class_names\", a list of non-empty names",
                               path=str(path))
    odd = [n for n in names if len(n) > MAX_CLASS_NAME_CHARS or not n.isprintable()]
    if odd:
        raise CorruptFileError(f"{path}: class names are 1..{MAX_CLASS_NAME_CHARS} printable "
                               f"characters, not {odd[0][:MAX_CLASS_NAME_CHARS + 8]!r}",
                               path=str(path))
    if len({n.strip().lower() for n in names}) != len(names):
        raise CorruptFileError(f"{path}: class names repeat: {names}", path=str(path))
    return meta


def union_class_names(folders: Sequence[TeachFolder]) -> tuple[str, ...]:
    """Every class of the folders, in the order first met."""
    return tuple(dict.fromkeys(name for f in folders for name in f.class_names))
