"""Writes small AEDAT 3.1 files (as in IBM's DVS128 Gesture release) byte by byte from the
format description, so the reader is tested against an independent encoder. Test-only."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

HEADER_LINES = (
    b"#!AER-DAT3.1\r\n",
    b"#Format: RAW\r\n",
    b"#Source 1: DVS128\r\n",
    b"#Start-Time: 2017-03-21 13:57:18 (TZ+0100)\r\n",
    b"#!END-HEADER\r\n",
)


def polarity_packet(t: np.ndarray, x, y, p, *, valid=None, overflow: int = 0) -> bytes:
    """A type-1 packet; ``t`` are the low 31 bits, ``overflow`` the high part."""
    n = len(t)
    valid = np.ones(n, dtype=np.uint32) if valid is None else np.asarray(valid, np.uint32)
    data = (
        (np.asarray(x, np.uint32) << 17)
        | (np.asarray(y, np.uint32) << 2)
        | (np.asarray(p, np.uint32) << 1)
        | valid
    )
    records = np.empty(n, dtype=[("data", "<u4"), ("t", "<i4")])
    records["data"], records["t"] = data, t
    header = struct.pack("<hhiiiiii", 1, 1, 8, 4, overflow, n, n, int(valid.sum()))
    return header + records.tobytes()


def special_packet(n: int = 2) -> bytes:
    """A type-0 (special event) packet, which readers of polarity events skip."""
    header = struct.pack("<hhiiiiii", 0, 1, 8, 4, 0, n, n, n)
    return header + bytes(8 * n)


def write_aedat31(path: Path, packets: list[bytes]) -> Path:
    path.write_bytes(b"".join(HEADER_LINES) + b"".join(packets))
    return path


def write_labels(path: Path, rows: list[tuple[int, int, int]]) -> Path:
    lines = ["class,startTime_usec,endTime_usec"] + [f"{c},{s},{e}" for c, s, e in rows]
    path.write_text("\n".join(lines) + "\n")
    return path
