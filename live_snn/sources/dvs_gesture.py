"""DVS128 Gesture as distributed by IBM: ``user*_<lighting>.aedat`` (AEDAT 3.1) with a
``*_labels.csv`` beside each, and ``trials_to_train.txt`` / ``trials_to_test.txt``.

AEDAT 3.1: text header lines starting with ``#`` up to ``#!END-HEADER\\r\\n``, then packets
of a 28-byte header (eventType, eventSource: int16; eventSize, eventTSOffset,
eventTSOverflow, eventCapacity, eventNumber, eventValid: int32) and eventNumber x eventSize
bytes. Polarity events (type 1) are 8 bytes: uint32 data (bit 0 valid, bit 1 polarity,
bits 2..16 y, bits 17..31 x) and int32 timestamp; full time = overflow << 31 | timestamp.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.errors import CorruptFileError, SourceError
from live_snn.events import EventBatch, LabelTrack, Resolution
from live_snn.labels import labels_path_for, read_labels_csv
from live_snn.sources.memory import MemorySource

DVS128_RESOLUTION = Resolution(128, 128)
VERSION_PREFIX = b"#!AER-DAT3"
END_OF_HEADER = b"#!END-HEADER\r\n"
PACKET_HEADER = np.dtype(
    [
        ("type", "<i2"),
        ("source", "<i2"),
        ("size", "<i4"),
        ("ts_offset", "<i4"),
        ("ts_overflow", "<i4"),
        ("capacity", "<i4"),
        ("number", "<i4"),
        ("valid", "<i4"),
    ]
)
POLARITY_EVENT = 1
POLARITY_RECORD = np.dtype([("data", "<u4"), ("t", "<i4")])
SPLIT_FILES = {"train": "trials_to_train.txt", "test": "trials_to_test.txt"}


def read_aedat31(path: str | Path) -> tuple[EventBatch, dict[str, str]]:
    """Valid polarity events of an AEDAT 3.1 file, and its header as ``{key: value}``.

    Packets are walked one by one (a file has thousands, not millions); the events of all
    polarity packets are then decoded in one vectorised pass."""
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise SourceError(f"cannot read AEDAT 3.1 file {path}: {exc.strerror or exc}") from exc
    header, pos = _parse_header(path, data)
    starts, counts, overflows = [], [], []
    n_bytes = data.size
    while pos < n_bytes:
        if pos + PACKET_HEADER.itemsize > n_bytes:
            raise CorruptFileError(
                f"{path}: truncated at byte {n_bytes}: a packet header starts at byte {pos} "
                f"but only {n_bytes - pos} of its {PACKET_HEADER.itemsize} bytes are there",
                path=str(path),
            )
        head = data[pos : pos + PACKET_HEADER.itemsize].view(PACKET_HEADER)[0]
        size, number = int(head["size"]), int(head["number"])
        if size <= 0 or number < 0:
            raise CorruptFileError(
                f"{path}: damaged packet header at byte {pos}: event size {size}, "
                f"event number {number}",
                path=str(path),
            )
        payload = pos + PACKET_HEADER.itemsize
        end = payload + size * number
        if end > n_bytes:
            raise CorruptFileError(
                f"{path}: truncated at byte {n_bytes}: the packet at byte {pos} declares "
                f"{number} events of {size} bytes, which would end at byte {end}",
                path=str(path),
            )
        if int(head["type"]) == POLARITY_EVENT:
            if size != POLARITY_RECORD.itemsize:
                raise CorruptFileError(
                    f"{path}: packet at byte {pos}: polarity events must be "
                    f"{POLARITY_RECORD.itemsize} bytes, this one says {size}",
                    path=str(path),
                )
            starts.append(payload)
            counts.append(number)
            overflows.append(int(head["ts_overflow"]))
        pos = end
    return _decode_polarity(data, starts, counts, overflows), header


def _parse_header(path: Path, data: np.ndarray) -> tuple[dict[str, str], int]:
    first = data[: len(VERSION_PREFIX)].tobytes()
    if first != VERSION_PREFIX:
        raise CorruptFileError(
            f"{path}: not an AEDAT 3.x file: it starts with {first!r}, expected {VERSION_PREFIX!r}",
            path=str(path),
        )
    head_bytes = data[: min(data.size, 1 << 20)].tobytes()
    end = head_bytes.find(END_OF_HEADER)
    if end < 0:
        raise CorruptFileError(
            f"{path}: no {END_OF_HEADER!r} line: the header is truncated or damaged",
            path=str(path),
        )
    header: dict[str, str] = {}
    for line in head_bytes[:end].decode("latin-1").splitlines():
        key, sep, value = line.lstrip("#").partition(":")
        if sep:
            header[key.strip()] = value.strip()
    header["version"] = head_bytes[2 : head_bytes.find(b"\r\n")].decode("latin-1")
    return header, end + len(END_OF_HEADER)


def _decode_polarity(
    data: np.ndarray, starts: list[int], counts: list[int], overflows: list[int]
) -> EventBatch:
    if not starts:
        return EventBatch.empty(DVS128_RESOLUTION)
    counts_arr = np.asarray(counts, dtype=np.int64)
    payload = np.concatenate(
        [data[s : s + n * POLARITY_RECORD.itemsize] for s, n in zip(starts, counts, strict=True)]
    )
    records = payload.view(POLARITY_RECORD)
    overflow = np.repeat(np.asarray(overflows, dtype=np.int64), counts_arr)
    valid = (records["data"] & 1).astype(bool)
    word = records["data"][valid]
    t = (overflow[valid] << 31) | records["t"][valid].astype(np.int64)
    x = (word >> 17) & 0x7FFF
    y = (word >> 2) & 0x7FFF
    p = (word >> 1) & 1
    return EventBatch.from_arrays(t, x, y, p, DVS128_RESOLUTION)


class DvsGestureSource(MemorySource):
    """One DVS128 Gesture ``.aedat`` recording, with its labels when the CSV is beside it
    (or given), replayable and seekable."""

    def __init__(
        self,
        path: str | Path,
        *,
        labels_path: str | Path | None = None,
        batch_us: int = 10_000,
    ) -> None:
        path = Path(path)
        if not path.is_file():
            raise SourceError(f"no such AEDAT 3.1 file: {path}")
        events, header = read_aedat31(path)
        labels_file = Path(labels_path) if labels_path else labels_path_for(path)
        labels = read_labels_csv(labels_file) if labels_file.is_file() else None
        sensor = _sensor_name(header)
        super().__init__(
            events,
            description=f"{path.name} ({sensor}, {DVS128_RESOLUTION}"
            + (", labelled)" if labels else ")"),
            labels=labels,
            batch_us=batch_us,
        )
        self.path = path
        self.sensor = sensor
        self.header = header


class DvsGestureDataset:
    """The recordings of one split: ``dataset[i] -> (EventBatch, LabelTrack)`` per file, and
    ``trials()`` yielding ``(EventBatch of one labelled segment, label)``."""

    class_names = DVS_GESTURE_CLASSES

    def __init__(self, root: str | Path, split: str = "train") -> None:
        self.root = Path(root)
        if split not in SPLIT_FILES:
            raise SourceError(f"DVS128 Gesture split must be 'train' or 'test', not {split!r}")
        self.split = split
        list_file = self.root / SPLIT_FILES[split]
        if not list_file.is_file():
            raise SourceError(f"DVS128 Gesture split list not found: {list_file}")
        names = [ln.strip() for ln in list_file.read_text().splitlines() if ln.strip()]
        self.files = [self.root / name for name in names]
        missing = [str(p) for p in self.files if not p.is_file()]
        if missing:
            raise SourceError(
                f"{list_file} lists {len(missing)} recording(s) that are not in {self.root}: "
                f"{', '.join(missing[:3])}"
            )

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[EventBatch, LabelTrack]:
        path = self.files[index]
        labels_file = labels_path_for(path)
        if not labels_file.is_file():
            raise SourceError(f"labels for {path.name} not found: expected {labels_file}")
        events, _ = read_aedat31(path)
        return events, read_labels_csv(labels_file)

    def trials(self) -> Iterator[tuple[EventBatch, int]]:
        """Every labelled segment of every recording, in file order."""
        for index in range(len(self)):
            events, labels = self[index]
            for segment in labels.segments:
                # a mask, not a binary search: recordings are not guaranteed to be sorted
                inside = (events.t >= segment.start_us) & (events.t < segment.end_us)
                yield EventBatch(events.events[inside], events.resolution), segment.label


def _sensor_name(header: dict[str, str]) -> str:
    for key, value in header.items():
        if re.fullmatch(r"Source \d+", key):
            return value
    return "DVS128"
