"""The fuzz harness's seeded mutations of AEDAT4 files and DV network streams, and the
places in a file (header end, packet headers, event timestamps) they aim at.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def mutate(data: bytes, rng: np.random.Generator, *, protect: int, packets: list[int],
           event_bytes: list[int]) -> tuple[bytes, str]:
    """One seeded mutation of ``data`` (the first ``protect`` bytes kept, except by the
    header mutation); ``packets``: packet header offsets, ``event_bytes``: offsets of
    uncompressed event timestamps (empty for a compressed file)."""
    kinds = ["bits", "overwrite", "truncate", "zeros", "duplicate", "delete", "header",
             "packet header"] + (["timestamp"] * 3 if event_bytes else [])
    kind = kinds[int(rng.integers(len(kinds)))]
    out = bytearray(data)
    n = len(out)
    at = int(rng.integers(protect, n))
    if kind == "bits":
        count = int(rng.integers(1, 17))
        for pos in rng.integers(protect, n, count):
            out[int(pos)] ^= 1 << int(rng.integers(8))
        return bytes(out), f"{count} bits flipped"
    if kind == "overwrite":
        length = int(rng.integers(1, 65))
        out[at:at + length] = rng.integers(0, 256, len(out[at:at + length]), np.uint8).tobytes()
        return bytes(out), f"{length} random bytes at {at}"
    if kind == "truncate":
        return bytes(out[:at]), f"cut at byte {at}"
    if kind == "zeros":
        length = int(rng.integers(1, 4096))
        out[at:at + length] = bytes(len(out[at:at + length]))
        return bytes(out), f"{length} bytes zeroed at {at}"
    if kind == "duplicate":
        length = int(rng.integers(1, 4096))
        return bytes(out[:at] + out[at:at + length] + out[at:]), f"{length} bytes repeated at {at}"
    if kind == "delete":
        length = int(rng.integers(1, 4096))
        return bytes(out[:at] + out[at + length:]), f"{length} bytes deleted at {at}"
    if kind == "header":
        pos = int(rng.integers(14, protect))
        out[pos] = int(rng.integers(256))
        return bytes(out), f"header byte {pos} set to {out[pos]}"
    if kind == "packet header" and packets:
        pos = packets[int(rng.integers(len(packets)))] + int(rng.integers(8))
        out[pos] = int(rng.integers(256))
        return bytes(out), f"packet header byte {pos} set to {out[pos]}"
    if kind == "timestamp" and event_bytes:
        pos = event_bytes[int(rng.integers(len(event_bytes)))] + int(rng.integers(8))
        out[pos] ^= 1 << int(rng.integers(8))
        return bytes(out), f"a bit of the timestamp at byte {pos} flipped"
    return bytes(out[:at]), f"cut at byte {at}"


def packet_offsets(path: Path) -> tuple[int, list[int], list[int]]:
    """Header end, packet header offsets and (uncompressed files) event timestamp offsets."""
    from live_snn.sources.aedat4_format import packet_layout, read_aedat4_header

    header = read_aedat4_header(path)
    packets = list(packet_layout(header).event_packet_offsets)
    stamps: list[int] = []
    if header.compression == "none":
        data = path.read_bytes()
        for offset in packets:
            size = int.from_bytes(data[offset + 4:offset + 8], "little")
            start = offset + 8 + 36  # past the packet header and the flatbuffer's head
            stamps.extend(range(start, min(offset + 8 + size - 16, start + 16 * 64), 16 * 7))
    return header.first_packet_position, packets, stamps
