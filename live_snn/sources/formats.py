"""What kind of event file a path holds, told by its content (the name's suffix only breaks
ties for files too short to tell): the formats live_snn reads (AEDAT4; AEDAT 3.1 as in DVS128
Gesture; jAER AEDAT 2.0 from a DVS128; Prophesee RAW in EVT 2.0, 2.1 and 3.0 and DAT; Event
Stream; CSV; N-MNIST's headerless 5-byte events), the formats it recognises but does not read
(HDF5, NumPy, Prophesee EVT words without their header, which need the sensor size given:
``evt2:320x320:FILE``), and otherwise "unknown format" with what was seen.

Nothing here is named after a guess: N-MNIST has no header, so a file is N-MNIST only when its
first events are all N-MNIST events (x and y inside 34x34, time not going back, not all zero).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live_snn.errors import SourceError
from live_snn.sources.headers import (
    RAW_VERSION_NAMES,
    read_csv_header,
    read_event_stream_header,
    read_jaer_header,
    read_prophesee_header,
)

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
# The DVS128's jAER address layout is the one live_snn reads from AEDAT 2.0 files.
JAER_DVS128_CHIPS = ("DVS128", "Tmpdiff128")
# How a file whose header lacks what its decoder needs is opened by naming it (spec.py).
FORCED_FORM = "{reader}:WIDTHxHEIGHT:PATH"


@dataclass(frozen=True)
class FileFormat:
    """``name`` for people; ``reader`` names live_snn's reader ("aedat4", "aedat31",
    "nmnist", "aedat2", "evt2", "evt21", "evt3", "dat", "es", "csv"), None for what it does
    not read; ``detail`` says what was seen (and, for a file that lacks its sensor size, how
    to open it)."""

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
        (HDF5_MAGIC, FileFormat("HDF5", None, "not supported")),
        (NUMPY_MAGIC, FileFormat("NumPy array (.npy)", None, "not supported")),
    ):
        if head.startswith(magic):
            return fmt
    if head.startswith(AEDAT2_MAGIC):
        return _jaer(head)
    if head.startswith(EVENT_STREAM_MAGIC):
        return _event_stream(head)
    if len(head) < len(AEDAT4_MAGIC) and head and AEDAT4_MAGIC.startswith(head[:12]):
        return FileFormat("AEDAT4", "aedat4", "cut short in its version line")
    if head.startswith(b"% "):
        return _prophesee(head, size)
    if size == 0:
        reader = SUFFIX_READERS.get(suffix)
        return FileFormat("empty file", reader, "0 bytes")
    csv = read_csv_header(head)
    if csv is not None:
        if csv.resolution is not None:
            return FileFormat("CSV events", "csv", f"{csv.resolution}")
        return FileFormat("CSV events", None, "without the sensor size (a 't,x@WIDTH,y@HEIGHT,on' "
                          f"header line): open it as {FORCED_FORM.format(reader='csv')}")
    nmnist = _nmnist(head, size)
    if nmnist is not None:
        return nmnist
    if _looks_like_evt2(head, size):
        return FileFormat("Prophesee EVT 2.0 event words without a RAW header", None,
                          "the sensor size is not in the file: open it as "
                          f"{FORCED_FORM.format(reader='evt2')}, e.g. evt2:320x320:PATH for a "
                          "GenX320 or evt2:1280x720:PATH for an IMX636")
    return FileFormat("unknown format", None, f"{size} bytes, starting {head[:16]!r}")


def _jaer(head: bytes) -> FileFormat:
    header = read_jaer_header(head)
    if header.chip and not any(chip in header.chip for chip in JAER_DVS128_CHIPS):
        return FileFormat("AEDAT 2.0 (jAER)", None, f"from a {header.chip_name}: live_snn "
                          "reads the DVS128 address layout only")
    return FileFormat("AEDAT 2.0 (jAER)", "aedat2", f"{header.chip_name}, 128x128")


def _event_stream(head: bytes) -> FileFormat:
    header = read_event_stream_header(head)
    if header is None:
        return FileFormat("Event Stream (.es)", "es", "cut short in its header")
    if header.event_type not in ("dvs", "atis"):
        return FileFormat("Event Stream (.es)", None, f"{header.event_type} events: live_snn "
                          "reads DVS and ATIS event streams")
    return FileFormat("Event Stream (.es)", "es", f"{header.event_type} events, version "
                      f"{header.version}, {header.resolution or 'no valid sensor size'}")


def _prophesee(head: bytes, size: int) -> FileFormat:
    """Prophesee RAW and DAT files start with ``% key value`` text lines."""
    header = read_prophesee_header(head)
    cut = _cut_in_header(head, size, header)
    if cut is not None:
        return FileFormat(f"Prophesee {header.kind.upper()}", None, cut)
    if header.kind == "raw":
        if header.version is None:
            return FileFormat("Prophesee RAW", None, "its header names no EVT version live_snn "
                              "reads (EVT 2.0, 2.1, 3.0)")
        name = RAW_VERSION_NAMES[header.version]
        if header.resolution is None:
            return FileFormat("Prophesee RAW", None, f"{name}; {_size_problem(header)}: open it "
                              f"as {FORCED_FORM.format(reader=header.version)}")
        return FileFormat("Prophesee RAW", header.version, f"{name}, {header.resolution}")
    if header.resolution is None:
        return FileFormat("Prophesee DAT", None, f"{_size_problem(header)}: open it as "
                          f"{FORCED_FORM.format(reader='dat')}")
    return FileFormat("Prophesee DAT", "dat", f"{header.resolution}")


def _cut_in_header(head: bytes, size: int, header) -> str | None:
    """What is wrong when the file ends inside its text header: a last line without its
    newline, a RAW header without its ``% end`` line, a DAT without its type/size bytes."""
    if size != len(head):  # more of the file than was read: not cut in its header
        return None
    rest = head[header.length :]
    ended = b"% end" in head[: header.length]
    if rest.startswith(b"%") or (header.kind == "raw" and not ended and not rest) or \
            (header.kind == "dat" and len(rest) < 2):
        return (f"truncated at byte {size}, inside its text header"
                + (", which has no '% end' line" if header.kind == "raw" else ""))
    return None


def _size_problem(header) -> str:
    if header.declared_size is None:
        return "its header does not give the sensor size"
    return (f"its header declares a {header.declared_size} sensor, which no camera has "
            "(damaged header?)")


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
