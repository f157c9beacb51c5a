"""Prophesee RAW (EVT 2.0, EVT 3.0), Prophesee DAT, Event Stream and CSV files, decoded by
faery (Rust) in this process, as :class:`ScannedFileSource` packets.

Why in this process, when AEDAT4 is decoded by dv-processing in a watched child: faery's
decoders for these formats neither spun nor crashed on any of the mutated files of the fuzz
harness (docs/reliability.md), they read a file in fixed 64 KiB blocks, and every decoding
error reaches Python as an exception, which is caught here and named by its block. (faery's
AEDAT4 decoder is another matter: docs/reliability.md says why AEDAT4 stays with
dv-processing.) faery 0.7.1 cannot decode EVT 2.1 (its decoder is unimplemented and panics);
:mod:`live_snn.sources.evt21` reads those.

Mapping to live_snn's events: faery's ``t`` (µs, the RAW/DAT header's t0 added back), ``x``,
``y`` (top-left origin; Event Stream counts y from the bottom row, and faery hands it over as
stored, so it is turned around here and by the writer) and ``on`` (ON = 1);
DAT's polarity byte is 0 or 1; ATIS Event Streams keep their change-detection events only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from live_snn.errors import CorruptFileError, SourceError
from live_snn.events import EVENT_DTYPE, MAX_SENSOR_SIDE, Resolution
from live_snn.sources.headers import (
    RAW_VERSION_NAMES,
    read_csv_header,
    read_event_stream_header,
    read_prophesee_header,
)
from live_snn.sources.scanned import PacketDamage, PacketReader, clean_message

# faery reads RAW and DAT data in blocks of this many bytes and hands over one packet per
# block (its decoders' buffer size); a decoding error is located by its block.
FAERY_BLOCK_BYTES = 65536
# Bytes per data word: an incomplete last word is a file cut short (faery drops it silently).
WORD_BYTES = {"evt2": 4, "evt3": 2, "dat": 8}
FAERY_READERS = ("evt2", "evt3", "dat", "es", "csv")
DEFAULT_HEAD_BYTES = 64 * 1024


def _faery_extension():
    try:
        from faery import extension
    except ImportError as exc:  # a broken install: say what is missing, once
        raise SourceError(f"reading this format needs faery (pip install faery): {exc}") from None
    return extension


def _reraise_control(exc: BaseException) -> None:
    # faery's Rust panics arrive as pyo3's PanicException, a BaseException: they are damage,
    # but a user's Ctrl-C or a closing generator is not.
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        raise exc


class FaeryReader(PacketReader):
    """One RAW (``kind`` "evt2" / "evt3"), DAT, Event Stream or CSV file. ``sensor_size``
    is used when the file does not say its own (a headerless RAW, a CSV without
    ``x@WIDTH``); a size in the file wins."""

    def __init__(self, path: str | Path, kind: str, *, sensor_size: Resolution | None = None):
        if kind not in FAERY_READERS:
            raise ValueError(f"faery reader for {kind!r}: expected one of {FAERY_READERS}")
        self.path = Path(path)
        self.kind = kind
        try:
            with self.path.open("rb") as f:
                head = f.read(DEFAULT_HEAD_BYTES)
            self.file_size = self.path.stat().st_size
        except OSError as exc:
            raise SourceError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        self.data_start, header_size, self.sensor, self.format_name = self._header(head)
        size = header_size or sensor_size
        if size is None:
            raise CorruptFileError(
                f"{self.path}: the file does not give its sensor size: open it as "
                f"{kind}:WIDTHxHEIGHT:{self.path}", path=str(self.path))
        self._size = size
        self.resolution = self._open_and_check()

    def _header(self, head: bytes) -> tuple[int, Resolution | None, str, str]:
        """(where the data starts, the sensor size in the header, sensor, format name)."""
        if self.kind in ("evt2", "evt3", "dat"):
            header = read_prophesee_header(head)
            if self.kind == "dat":
                return header.length + 2, header.resolution, header.sensor, "Prophesee DAT"
            if header.kind == "raw" and header.version not in (None, self.kind):
                raise CorruptFileError(
                    f"{self.path}: its header says {RAW_VERSION_NAMES[header.version]}, not "
                    f"{RAW_VERSION_NAMES[self.kind]}", path=str(self.path))
            name = f"Prophesee RAW ({RAW_VERSION_NAMES[self.kind]})"
            sensor = header.sensor if header.length else "no RAW header"
            return header.length, header.resolution, sensor, name
        if self.kind == "es":
            header = read_event_stream_header(head)
            if header is None:
                raise CorruptFileError(f"{self.path}: truncated at byte {len(head)}: the Event "
                                       "Stream header is incomplete", path=str(self.path))
            if header.event_type not in ("dvs", "atis"):
                raise CorruptFileError(f"{self.path}: an Event Stream of {header.event_type} "
                                       "events; live_snn reads DVS and ATIS events",
                                       path=str(self.path))
            return (header.length, header.resolution, f"{header.event_type.upper()} sensor",
                    f"Event Stream {header.version} ({header.event_type})")
        header = read_csv_header(head)
        has_header = header is not None and header.has_header
        self._csv_has_header = has_header
        return 0, header.resolution if header else None, "not named in CSV", "CSV"

    def _decoder(self):
        extension = _faery_extension()
        dims = (self._size.width, self._size.height)
        if self.kind in ("evt2", "evt3"):
            return extension.evt.Decoder(self.path, dims, self.kind)
        if self.kind == "dat":
            return extension.dat.Decoder(self.path, dims, "dat2")
        if self.kind == "es":
            return extension.es.Decoder(self.path, 0)
        return extension.csv.Decoder(self.path, dims, self._csv_has_header, ord(","), 0, 1, 2, 3,
                                     0.0, 0, b"1", b"0", False)

    def _open_and_check(self) -> Resolution:
        """Open faery's decoder once: a header it cannot read is damage, named here."""
        try:
            with self._decoder() as decoder:
                dims = getattr(decoder, "dimensions", None) or (self._size.width,
                                                                 self._size.height)
                event_type = getattr(decoder, "event_type", None)
        except BaseException as exc:
            _reraise_control(exc)
            raise CorruptFileError(f"{self.path}: damaged {self.format_name} header: "
                                   f"{clean_message(exc)}", path=str(self.path)) from None
        if self.kind == "dat" and event_type != "cd":
            raise CorruptFileError(f"{self.path}: a DAT file of {event_type} events; live_snn "
                                   "reads change-detection (cd) events", path=str(self.path))
        width, height = (int(v) for v in dims)
        if not (0 < width <= MAX_SENSOR_SIDE and 0 < height <= MAX_SENSOR_SIDE):
            raise CorruptFileError(f"{self.path}: damaged header: it declares a {width}x{height} "
                                   f"sensor; expected 1..{MAX_SENSOR_SIDE} pixels a side",
                                   path=str(self.path))
        return Resolution(width, height)

    def packets(self) -> Iterator[np.ndarray]:
        block = 0
        try:
            with self._decoder() as decoder:
                for packet in decoder:
                    events = self._events(packet)
                    block += 1
                    yield events  # empty ones too: packet index = block index
        except BaseException as exc:
            _reraise_control(exc)
            raise PacketDamage(self._block(block), clean_message(exc)) from None
        word = WORD_BYTES.get(self.kind)
        if word and (self.file_size - self.data_start) % word:
            last = self.file_size - (self.file_size - self.data_start) % word
            raise PacketDamage(f"byte {last}", f"truncated at byte {self.file_size}: the last "
                               f"{word}-byte word (from byte {last}) is incomplete")

    def _events(self, packet) -> np.ndarray:
        if self.kind in ("evt2", "evt3"):
            packet = packet.get("events")
            if packet is None:  # a block of triggers only
                return np.empty(0, dtype=EVENT_DTYPE)
        events = np.empty(len(packet), dtype=EVENT_DTYPE)
        events["t"] = packet["t"]
        events["x"] = packet["x"]
        if self.kind == "es":  # Event Stream's origin is bottom-left
            events["y"] = self.resolution.height - 1 - packet["y"].astype(np.int32)
        else:
            events["y"] = packet["y"]
        if self.kind == "dat":
            events["p"] = packet["payload"]
        elif self.kind == "es" and "exposure" in packet.dtype.names:  # ATIS
            keep = ~packet["exposure"]
            events["p"] = packet["polarity"]
            return events[keep]
        else:
            events["p"] = packet["on"]
        return events

    def _block(self, block: int) -> str:
        if self.kind in ("evt2", "evt3", "dat"):
            start = self.data_start + block * FAERY_BLOCK_BYTES
            end = min(start + FAERY_BLOCK_BYTES, self.file_size)
            return f"read block {block} (bytes {start}-{end})"
        return f"read block {block}"

    def locate(self, packet: int, event: int) -> str:
        return self._block(packet)
