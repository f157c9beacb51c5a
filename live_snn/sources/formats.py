"""What kind of event file a path holds, told by its content (the name's suffix only breaks
ties for files too short to tell): the formats live_snn reads (AEDAT4, AEDAT 3.1 as in DVS128
Gesture, N-MNIST's headerless 5-byte events), the formats it recognises but does not read
(AEDAT 2.0 / jAER, Prophesee RAW and DAT, Event Stream, HDF5, NumPy, Prophesee EVT 2.0 words
without their header), and otherwise "unknown format" with what was seen.

Nothing here is named after a guess: N-MNIST has no header, so a file is N-MNIST only when its
first events are all N-MNIST events (x and y inside 34x34, time not going back, not all zero).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live_snn.errors import SourceError

AEDAT4_MAGIC = b"#!AER-DAT4.0"
AEDAT31_MAGIC = b"#!AER-DAT3.1"
AEDAT2_MAGIC = b"#!AER-DAT2.0"
EVENT_STREAM_MAGIC = b"Event Stream"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
NUMPY_MAGIC = b"\x93NUMPY"
READ_HEAD_BYTES = 64 * 1024
NMNIST_RECORD, NMNIST_SIDE = 5, 34
NMNIST_PROBE_EVENTS = 64
# Prophesee EVT 2.0: 32-bit words whose top 4 bits are the type (CD off/on, time high,
# external trigger, others, continued).
EVT2_TYPES = (0x0, 0x1, 0x8, 0xA, 0xE, 0xF)
EVT2_TIME_HIGH = 0x8
EVT2_PROBE_WORDS = 4096
SUFFIX_READERS = {".aedat4": "aedat4", ".aedat": "aedat31", ".bin": "nmnist"}


@dataclass(frozen=True)
class FileFormat:
    """``name`` for people; ``reader`` is "aedat4", "aedat31" or "nmnist" for what live_snn
    reads, None otherwise; ``detail`` says what was seen."""

    name: str
    reader: str | None
    detail: str = ""

    def describe(self) -> str:
        return f"{self.name}{f' ({self.detail})' if self.detail else ''}"


def identify_format(path: str | Path) -> FileFormat:
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(READ_HEAD_BYTES)
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    return identify_bytes(head, size=size, suffix=path.suffix.lower())


def identify_bytes(head: bytes, *, size: int, suffix: str = "") -> FileFormat:
    """The format of a file of ``size`` bytes that starts with ``head``."""
    for magic, fmt in (
        (AEDAT4_MAGIC, FileFormat("AEDAT4", "aedat4")),
        (AEDAT31_MAGIC, FileFormat("AEDAT 3.1", "aedat31")),
        (AEDAT2_MAGIC, FileFormat("AEDAT 2.0 (jAER)", None, "not supported")),
        (EVENT_STREAM_MAGIC, FileFormat("Event Stream (.es)", None, "not supported")),
        (HDF5_MAGIC, FileFormat("HDF5", None, "not supported")),
        (NUMPY_MAGIC, FileFormat("NumPy array (.npy)", None, "not supported")),
    ):
        if head.startswith(magic):
            return fmt
    if len(head) < len(AEDAT4_MAGIC) and head and AEDAT4_MAGIC.startswith(head[:12]):
        return FileFormat("AEDAT4", "aedat4", "cut short in its version line")
    if head.startswith(b"% "):
        return _prophesee(head)
    if size == 0:
        reader = SUFFIX_READERS.get(suffix)
        return FileFormat("empty file", reader, "0 bytes")
    nmnist = _nmnist(head, size)
    if nmnist is not None:
        return nmnist
    if _looks_like_evt2(head, size):
        return FileFormat("Prophesee EVT 2.0 event words without a RAW header", None,
                          "not supported")
    return FileFormat("unknown format", None, f"{size} bytes, starting {head[:16]!r}")


def _prophesee(head: bytes) -> FileFormat:
    """Prophesee RAW and DAT files start with ``% key value`` text lines."""
    text = head.split(b"% end", 1)[0].decode("latin-1")
    evt = re.search(r"^% (?:evt|format)\s+(EVT\s*[0-9.]+|[0-9.]+)", text, re.MULTILINE | re.I)
    if evt:
        return FileFormat("Prophesee RAW", None, f"{evt.group(1)}; not supported")
    if re.search(r"^% (?:Data file|Version|Height|Width|Date)", text, re.MULTILINE):
        return FileFormat("Prophesee DAT", None, "not supported")
    return FileFormat("text with '% ' header lines (Prophesee-like)", None, "not supported")


def _nmnist(head: bytes, size: int) -> FileFormat | None:
    usable = len(head) - len(head) % NMNIST_RECORD
    probe = np.frombuffer(head[: min(usable, NMNIST_RECORD * NMNIST_PROBE_EVENTS)], np.uint8)
    if len(probe) == 0 or not probe.any():
        return None
    rows = probe.reshape(-1, NMNIST_RECORD)
    if nmnist_first_bad(rows, previous_t=None) is not None:
        return None
    return FileFormat("N-MNIST", "nmnist")


def nmnist_times(rows: np.ndarray) -> np.ndarray:
    return ((rows[:, 2].astype(np.int64) & 0x7F) << 16 | rows[:, 3].astype(np.int64) << 8
            | rows[:, 4].astype(np.int64))


def nmnist_first_bad(rows: np.ndarray, *, previous_t: int | None) -> tuple[int, str] | None:
    """The first 5-byte record that is not an N-MNIST event (x or y outside 34x34, time
    going back), with what is wrong; None when all are."""
    t = nmnist_times(rows)
    before = np.empty_like(t)
    if len(t):
        before[0] = t[0] if previous_t is None else previous_t
        before[1:] = t[:-1]
    bad = (rows[:, 0] >= NMNIST_SIDE) | (rows[:, 1] >= NMNIST_SIDE) | (t < before)
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    x, y = int(rows[i, 0]), int(rows[i, 1])
    if x >= NMNIST_SIDE or y >= NMNIST_SIDE:
        return i, f"x={x}, y={y} is outside the 34x34 sensor"
    return i, f"time goes back ({int(t[i])} us after {int(before[i])} us)"


def _looks_like_evt2(head: bytes, size: int) -> bool:
    if size % 4 or len(head) < 64:
        return False
    words = np.frombuffer(head[: 4 * min(len(head) // 4, EVT2_PROBE_WORDS)], "<u4")
    types = words >> 28
    return bool(np.isin(types, EVT2_TYPES).all() and (types == EVT2_TIME_HIGH).any())
