"""N-MNIST in its original binary layout: ``Train/<digit>/<id>.bin`` and ``Test/...``, each
event 5 bytes: x, y, then the polarity in the top bit followed by a 23-bit timestamp (µs),
big-endian. The sensor (ATIS) is cropped to 34x34."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from live_snn.classes import NMNIST_CLASSES
from live_snn.errors import CorruptFileError, SourceError
from live_snn.events import EventBatch, Resolution
from live_snn.sources.formats import nmnist_first_bad, nmnist_times
from live_snn.sources.memory import MemorySource

NMNIST_RESOLUTION = Resolution(34, 34)
BYTES_PER_EVENT = 5


def read_nmnist_bin(path: str | Path) -> EventBatch:
    """Decode one ``.bin`` sample (vectorised); :class:`CorruptFileError` if any of it is
    not N-MNIST (truncated, coordinates outside 34x34, time going back)."""
    events, damage = decode_nmnist_bin(path)
    if damage is not None:
        raise damage
    return events


def decode_nmnist_bin(path: str | Path) -> tuple[EventBatch, CorruptFileError | None]:
    """The events of one ``.bin`` sample up to its first damage, and that damage (naming
    the byte) or None."""
    path = Path(path)
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise SourceError(f"cannot read N-MNIST file {path}: {exc.strerror or exc}") from exc
    usable = raw.size - raw.size % BYTES_PER_EVENT
    rows = raw[:usable].reshape(-1, BYTES_PER_EVENT)
    problem = None
    bad = nmnist_first_bad(rows, previous_t=None)
    if bad is not None:
        index, what = bad
        rows = rows[:index]
        problem = f"damaged at byte {index * BYTES_PER_EVENT} (event {index}): {what}"
    elif usable != raw.size:
        problem = (f"truncated at byte {raw.size}: N-MNIST events are {BYTES_PER_EVENT} bytes "
                   f"each, and the last event (from byte {usable}) is incomplete")
    events = EventBatch.from_arrays(nmnist_times(rows), rows[:, 0], rows[:, 1], rows[:, 2] >> 7,
                                    NMNIST_RESOLUTION)
    if problem is None:
        return events, None
    return events, CorruptFileError(
        f"{path}: {problem}; the {len(events)} events before it are kept",
        path=str(path), events_read=len(events))


class NmnistSource(MemorySource):
    """One N-MNIST sample as a (seekable) source; ``label`` is the digit its folder is named
    after, or None for a sample kept elsewhere (it still replays)."""

    def __init__(self, path: str | Path, *, batch_us: int = 1_000) -> None:
        path = Path(path)
        events, damage = decode_nmnist_bin(path)
        super().__init__(
            events,
            description=f"N-MNIST {path.parent.name}/{path.name} ({NMNIST_RESOLUTION})",
            batch_us=batch_us,
            damage=damage,
        )
        self.path = path
        self.label: int | None = _label_of(path) if path.parent.name in NMNIST_CLASSES else None


class NmnistDataset:
    """``dataset[i] -> (EventBatch 34x34, label)`` over ``root/<split>/<digit>/*.bin``,
    files in sorted order."""

    class_names = NMNIST_CLASSES

    def __init__(self, root: str | Path, split: str = "Train") -> None:
        self.root = Path(root)
        folder = _split_folder(self.root, split)
        self.split = folder.name
        self.files: list[Path] = sorted(folder.glob("[0-9]/*.bin"))
        if not self.files:
            raise SourceError(f"no N-MNIST samples (<digit>/*.bin) under {folder}")
        self.labels = np.array([_label_of(p) for p in self.files], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[EventBatch, int]:
        return read_nmnist_bin(self.files[index]), int(self.labels[index])


def _split_folder(root: Path, split: str) -> Path:
    if not root.is_dir():
        raise SourceError(f"N-MNIST folder not found: {root}")
    for candidate in root.iterdir():
        if candidate.is_dir() and candidate.name.lower() == split.lower():
            return candidate
    found = sorted(p.name for p in root.iterdir() if p.is_dir())
    raise SourceError(
        f"N-MNIST split {split!r} not found in {root}: expected a Train or Test folder, "
        f"found {found or 'no folders'}"
    )


def _label_of(path: Path) -> int:
    digit = path.parent.name
    if digit not in NMNIST_CLASSES:
        raise SourceError(
            f"{path}: N-MNIST samples live in a folder named after their digit, not {digit!r}"
        )
    return int(digit)
