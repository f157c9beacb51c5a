"""Prophesee RAW files in EVT 2.1, decoded here, vectorised (faery 0.7.1 cannot: its EVT 2.1
decoder is unimplemented and panics).

EVT 2.1 (Prophesee's "EVT 2.1 Format" documentation) is a stream of 64-bit little-endian
words whose top 4 bits are the type:

* ``0000`` / ``0001`` — OFF / ON events of up to 32 pixels of one row: bits 59..54 are the 6
  low bits of the timestamp, 53..43 the x of the group's first pixel, 42..32 its y, and bit i
  of the low 32 bits says that pixel x + i fired;
* ``1000`` — time high: bits 59..32 are bits 33..6 of the timestamp (µs);
* ``1010`` (external trigger) and ``1110`` (others) carry no pixel events.

An IMX636 writes each word as two 32-bit halves, high half first; its RAW header says so with
``endianness=legacy`` in the ``% format`` line, and the halves are swapped back here. A time
high that goes back by more than half its range is its 34-bit counter wrapping (every 4 h 46
min); anything else that goes back is left for the scan to name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from live_snn.errors import CorruptFileError, SourceError
from live_snn.events import EVENT_DTYPE, Resolution
from live_snn.sources.headers import read_prophesee_header
from live_snn.sources.scanned import PacketDamage, PacketReader

WORD_BYTES = 8
WORDS_PER_PACKET = 1 << 16
TYPE_OFF, TYPE_ON, TYPE_TIME_HIGH = 0x0, 0x1, 0x8
TIME_HIGH_PERIOD = 1 << 34  # the timestamp counter's range, µs


def decode_evt21_words(words: np.ndarray, time_high: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Events of ``words`` (uint64, already in the documented bit order) and, per event, the
    index of the word it came from; ``time_high`` is the time base before the first word and
    the third value the one after the last (both in µs, wrap counted)."""
    kind = words >> np.uint64(60)
    is_time = kind == TYPE_TIME_HIGH
    highs = ((words[is_time] >> np.uint64(32)) & np.uint64(0x0FFFFFFF)).astype(np.int64) << 6
    if len(highs):
        # the counter wraps: each large step back adds a period from there on
        previous = np.concatenate([[time_high % TIME_HIGH_PERIOD], highs[:-1]])
        wraps = np.cumsum(highs - previous < -(TIME_HIGH_PERIOD // 2))
        highs = highs + (time_high // TIME_HIGH_PERIOD + wraps) * TIME_HIGH_PERIOD
    # the time base in force at each word: the last time high at or before it
    which = np.where(is_time, np.cumsum(is_time) - 1, -1)
    which = np.maximum.accumulate(which) if len(which) else which
    base = np.where(which >= 0, highs[np.maximum(which, 0)] if len(highs) else 0, time_high)
    is_cd = (kind == TYPE_OFF) | (kind == TYPE_ON)
    cd = words[is_cd]
    bits = np.unpackbits((cd & np.uint64(0xFFFFFFFF)).astype("<u4").view(np.uint8)
                         .reshape(-1, 4), axis=1, bitorder="little")
    rows, offsets = np.nonzero(bits)
    events = np.empty(len(rows), dtype=EVENT_DTYPE)
    events["t"] = base[is_cd][rows] + ((cd[rows] >> np.uint64(54)) & np.uint64(0x3F)).astype(np.int64)
    events["x"] = ((cd[rows] >> np.uint64(43)) & np.uint64(0x7FF)).astype(np.int64) + offsets
    events["y"] = ((cd[rows] >> np.uint64(32)) & np.uint64(0x7FF)).astype(np.int64)
    events["p"] = (kind[is_cd][rows] == TYPE_ON)
    word_index = np.flatnonzero(is_cd)[rows]
    return events, word_index, int(highs[-1]) if len(highs) else time_high


class Evt21Reader(PacketReader):
    """An EVT 2.1 RAW file; ``sensor_size`` for a file whose header does not give it."""

    def __init__(self, path: str | Path, *, sensor_size: Resolution | None = None):
        self.path = Path(path)
        try:
            with self.path.open("rb") as f:
                header = read_prophesee_header(f.read(64 * 1024))
            self.file_size = self.path.stat().st_size
        except OSError as exc:
            raise SourceError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        if header.kind == "raw" and header.version not in (None, "evt21"):
            raise CorruptFileError(f"{self.path}: its header does not say EVT 2.1",
                                   path=str(self.path))
        size = header.resolution or sensor_size
        if size is None:
            raise CorruptFileError(f"{self.path}: the file does not give its sensor size: open "
                                   f"it as evt21:WIDTHxHEIGHT:{self.path}", path=str(self.path))
        self.resolution = size
        self.data_start = header.length
        self.legacy_halves = header.legacy_halves
        self.sensor = header.sensor if header.length else "no RAW header"
        self.format_name = "Prophesee RAW (EVT 2.1)"
        # the packet being read: its number, the events before it, each event's word
        self._current: tuple[int, int, np.ndarray] = (0, 0, np.empty(0, dtype=np.int64))

    def packets(self) -> Iterator[np.ndarray]:
        time_high, packet, before = 0, 0, 0
        try:
            with self.path.open("rb") as f:
                f.seek(self.data_start)
                while True:
                    data = f.read(WORDS_PER_PACKET * WORD_BYTES)
                    usable = len(data) - len(data) % WORD_BYTES
                    words = np.frombuffer(data[:usable], dtype="<u8")
                    if self.legacy_halves:
                        words = (words >> np.uint64(32)) | (words << np.uint64(32))
                    events, word_index, time_high = decode_evt21_words(words, time_high)
                    self._current = (packet, before, word_index)
                    yield events
                    packet, before = packet + 1, before + len(events)
                    if usable < len(data):
                        end = self.file_size
                        raise PacketDamage(
                            f"byte {end - len(data) + usable}",
                            f"truncated at byte {end}: the last 8-byte word is incomplete")
                    if len(data) < WORDS_PER_PACKET * WORD_BYTES:
                        return
        except OSError as exc:
            raise PacketDamage("reading", exc.strerror or str(exc)) from None

    def locate(self, packet: int, event: int) -> str:
        """The byte of the word that event ``event`` (counted over the file) came from; asked
        while the scan is at that packet."""
        current, before, word_index = self._current
        index = int(word_index[event - before]) if current == packet else 0
        return f"byte {self.data_start + (packet * WORDS_PER_PACKET + index) * WORD_BYTES}"
