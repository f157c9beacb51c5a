"""jAER AEDAT 2.0 recordings from a DVS128, decoded here, vectorised (no library reads them).

An AEDAT 2.0 file is ``#`` header lines (the first ``#!AER-DAT2.0``; ``# AEChip: ...`` names
the sensor), then 8-byte events: a big-endian int32 address and a big-endian int32 timestamp
in µs. The DVS128 address (jAER's ``DVS128`` chip): bit 0 is the polarity, 1 for OFF and 0 for
ON; bits 1..7 are 127 - x; bits 8..14 are y counted from the bottom row, as jAER draws it.
live_snn's origin is the top-left pixel (as dv-processing's and AEDAT 3.1's), so here
x = 127 - bits 1..7 and y = 127 - bits 8..14. The int32 timestamp wraps after 71 minutes:
a step back of more than half its range is counted as a wrap.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from live_snn.errors import SourceError
from live_snn.events import EVENT_DTYPE, Resolution
from live_snn.sources.headers import read_jaer_header
from live_snn.sources.scanned import PacketDamage, PacketReader

DVS128_RESOLUTION = Resolution(128, 128)
RECORD = np.dtype([("address", ">i4"), ("t", ">i4")])
EVENTS_PER_PACKET = 1 << 16
# Bits a DVS128 address may use (polarity, x, y); others set mean another chip or damage.
DVS128_ADDRESS_BITS = 0x7FFF
WRAP = 1 << 32


def decode_dvs128(records: np.ndarray, wraps_before: int, previous_t: int | None
                  ) -> tuple[np.ndarray, int]:
    """Events of AEDAT 2.0 ``records`` (dtype :data:`RECORD`) from a DVS128, and the number
    of timestamp wraps after them."""
    address = records["address"].astype(np.int64)
    raw_t = records["t"].astype(np.int64)
    before = np.concatenate([[raw_t[0] if previous_t is None else previous_t], raw_t[:-1]]) \
        if len(raw_t) else raw_t
    wraps = wraps_before + np.cumsum(raw_t - before < -(WRAP // 2))
    events = np.empty(len(records), dtype=EVENT_DTYPE)
    events["t"] = raw_t + wraps * WRAP
    events["x"] = 127 - ((address >> 1) & 0x7F)
    events["y"] = 127 - ((address >> 8) & 0x7F)
    events["p"] = 1 - (address & 1)
    return events, int(wraps[-1]) if len(wraps) else wraps_before


class JaerReader(PacketReader):
    """A jAER AEDAT 2.0 file from a DVS128 (128x128)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            with self.path.open("rb") as f:
                header = read_jaer_header(f.read(1 << 20))
            self.file_size = self.path.stat().st_size
        except OSError as exc:
            raise SourceError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        self.data_start = header.length
        self.resolution = DVS128_RESOLUTION
        self.sensor = header.chip_name
        self.format_name = "AEDAT 2.0 (jAER)"

    def packets(self) -> Iterator[np.ndarray]:
        wraps, previous, index = 0, None, 0
        try:
            with self.path.open("rb") as f:
                f.seek(self.data_start)
                while True:
                    data = f.read(EVENTS_PER_PACKET * RECORD.itemsize)
                    usable = len(data) - len(data) % RECORD.itemsize
                    records = np.frombuffer(data[:usable], dtype=RECORD)
                    foreign = (records["address"] & ~DVS128_ADDRESS_BITS) != 0
                    if foreign.any():
                        bad = int(np.argmax(foreign))
                        events, wraps = decode_dvs128(records[:bad], wraps, previous)
                        yield events
                        raise PacketDamage(
                            f"byte {self._byte(index + bad)}",
                            f"address 0x{int(records['address'][bad]) & 0xFFFFFFFF:08x} is not "
                            "a DVS128 address (bits above 14 set)")
                    events, wraps = decode_dvs128(records, wraps, previous)
                    if len(records):
                        previous = int(records["t"][-1])
                    yield events
                    index += len(records)
                    if usable < len(data):
                        raise PacketDamage(
                            f"byte {self._byte(index)}",
                            f"truncated at byte {self.file_size}: the last 8-byte event (from "
                            f"byte {self._byte(index)}) is incomplete")
                    if len(data) < EVENTS_PER_PACKET * RECORD.itemsize:
                        return
        except OSError as exc:
            raise PacketDamage("reading", exc.strerror or str(exc)) from None

    def _byte(self, event: int) -> int:
        return self.data_start + event * RECORD.itemsize

    def locate(self, packet: int, event: int) -> str:
        return f"byte {self._byte(event)}"
