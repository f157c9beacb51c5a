"""The DV network protocol, decoded and checked in Python, byte by byte accounted for.

A DV stream (dv-processing's ``NetworkWriter``, DV software's network outputs, ``live-snn
serve-sim``) is an int32 size and an ``IOHeader`` flatbuffer (compression, XML description of
the streams), then packets: int32 stream id, int32 size, a size-prefixed flatbuffer. dv-
processing's own reader aborts or segfaults the whole process on a malformed stream (a
garbage size, a flipped type identifier), so nothing of a stream reaches it: the framing and
every event packet's flatbuffer are checked here, with their byte offset and packet index,
and the events are read straight out of the packet with NumPy.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

import numpy as np

from live_snn.errors import CorruptFileError
from live_snn.events import EVENT_DTYPE, MAX_SENSOR_SIDE, Resolution
from live_snn.sources.aedat4_format import (
    COMPRESSION_NAMES,
    HEADER_IDENTIFIER,
    MAX_HEADER_BYTES,
    _parse_io_header,
    event_stream_id,
)

EVENT_PACKET_IDENTIFIER = b"EVTS"
# dv's event records: int64 t, int16 x, int16 y, bool p, padding to 16 bytes.
DV_EVENT = np.dtype({"names": ["t", "x", "y", "p"], "formats": ["<i8", "<i2", "<i2", "u1"],
                     "offsets": [0, 8, 10, 12], "itemsize": 16})
MAX_PACKET_BYTES = 64 * 1024 * 1024  # dv writes packets of 10k events (160 kB)


class DvStreamError(Exception):
    """The stream is not what the DV protocol says, at ``offset`` (in packet ``packet``)."""

    def __init__(self, what: str, *, offset: int, packet: int | None):
        super().__init__(what)
        self.what = what
        self.offset = offset
        self.packet = packet

    def where(self) -> str:
        packet = "" if self.packet is None else f", packet {self.packet}"
        return f"byte {self.offset}{packet}"


@dataclass(frozen=True)
class DvStreamHeader:
    size: int                  # bytes of the header, its int32 size included
    event_stream: int
    stream_ids: frozenset[int]
    resolution: Resolution
    camera_name: str


def header_size(head: bytes) -> int | None:
    """Bytes the whole header takes, from the first 12 bytes of a stream; None if these are
    not the start of a DV header."""
    if len(head) < 12 or head[8:12] != HEADER_IDENTIFIER:
        return None
    (size,) = struct.unpack_from("<i", head, 0)
    return 4 + size if 16 <= size <= MAX_HEADER_BYTES else None


def parse_header(data: bytes) -> DvStreamHeader:
    """The stream header (``data`` holds exactly it, size included); :class:`DvStreamError`
    for anything the protocol does not allow or live_snn does not read."""
    try:
        compression, _, xml = _parse_io_header("the stream", data[4:], 4)
    except CorruptFileError as exc:
        raise DvStreamError(str(exc).split(": ", 1)[-1], offset=4, packet=None) from None
    if compression != 0:
        raise DvStreamError(
            f"the stream is {COMPRESSION_NAMES[compression]}-compressed; live_snn reads "
            "uncompressed DV streams (set the sender's compression to NONE)", offset=4, packet=None)
    ids = frozenset(int(i) for i in re.findall(r'path="/outInfo/(\d+)/"', xml)) or frozenset({0})
    events = event_stream_id(xml)
    width, height = (_int_attr(xml, key) for key in ("sizeX", "sizeY"))
    if width is None or height is None or not (0 < width <= MAX_SENSOR_SIDE
                                                and 0 < height <= MAX_SENSOR_SIDE):
        raise DvStreamError(f"the header declares a {width}x{height} event sensor; expected "
                            f"1..{MAX_SENSOR_SIDE} pixels a side", offset=4, packet=None)
    name = re.search(r'key="source"[^>]*>([^<]*)<', xml)
    return DvStreamHeader(len(data), events, ids | {events}, Resolution(width, height),
                          name.group(1).strip() if name else "DV stream")


def _int_attr(xml: str, key: str) -> int | None:
    match = re.search(rf'key="{key}"[^>]*>\s*(-?\d+)\s*<', xml)
    return int(match.group(1)) if match else None


class DvPacketDecoder:
    """``feed(bytes) -> [event arrays]``: the events of every complete packet so far, in
    stream order (packets of other streams skipped); raises :class:`DvStreamError` at the
    first byte that breaks the protocol. ``offset`` counts the stream's bytes consumed."""

    def __init__(self, header: DvStreamHeader):
        self.header = header
        self.offset = header.size
        self.packets = 0
        self.error: DvStreamError | None = None  # the first fault; nothing is read after it
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[np.ndarray]:
        """The events of the packets that ``data`` completes; at a fault, those before it
        (the fault is kept in ``error``)."""
        if self.error is not None:
            return []
        self._buffer += data
        out = []
        view = memoryview(self._buffer)
        used = 0
        try:
            while len(view) - used >= 8:
                stream, size = struct.unpack_from("<ii", view, used)
                if stream not in self.header.stream_ids:
                    raise DvStreamError(f"packet header names stream {stream}, not one the "
                                        f"header declared {sorted(self.header.stream_ids)}",
                                        offset=self.offset, packet=self.packets)
                if not 0 < size <= MAX_PACKET_BYTES:
                    raise DvStreamError(f"packet header declares {size} bytes (expected "
                                        f"1..{MAX_PACKET_BYTES})", offset=self.offset,
                                        packet=self.packets)
                if len(view) - used < 8 + size:
                    break
                if stream == self.header.event_stream:
                    out.append(self._events(bytes(view[used + 8:used + 8 + size])))
                used += 8 + size
                self.offset += 8 + size
                self.packets += 1
        except DvStreamError as exc:
            self.error = exc
        finally:
            view.release()
            del self._buffer[:used]
        return out

    def _events(self, payload: bytes) -> np.ndarray:
        try:
            records = event_records(payload)
        except DvStreamError as exc:
            raise DvStreamError(exc.what, offset=self.offset + 8, packet=self.packets) from None
        events = np.empty(len(records), dtype=EVENT_DTYPE)
        events["t"], events["x"], events["y"] = records["t"], records["x"], records["y"]
        events["p"] = records["p"].view(np.int8)
        return events


def event_records(payload: bytes) -> np.ndarray:
    """The DV_EVENT records of one size-prefixed ``EventPacket`` flatbuffer (a view)."""

    def bad(what: str) -> DvStreamError:
        return DvStreamError(f"damaged event packet: {what}", offset=0, packet=None)

    if len(payload) < 12:
        raise bad(f"{len(payload)} bytes")
    (declared,) = struct.unpack_from("<I", payload, 0)
    if declared != len(payload) - 4:
        raise bad(f"its flatbuffer declares {declared} bytes, the packet holds {len(payload) - 4}")
    buf = memoryview(payload)[4:]
    if bytes(buf[4:8]) != EVENT_PACKET_IDENTIFIER:
        raise bad(f"type identifier {bytes(buf[4:8])!r}, expected {EVENT_PACKET_IDENTIFIER!r}")
    try:
        (root,) = struct.unpack_from("<I", buf, 0)
        (back,) = struct.unpack_from("<i", buf, root)
        vtable = root - back
        vtable_size, _ = struct.unpack_from("<HH", buf, vtable)
        field = struct.unpack_from("<H", buf, vtable + 4)[0] if vtable_size >= 6 else 0
        if field == 0:
            return np.empty(0, dtype=DV_EVENT)
        at = root + field
        vector = at + struct.unpack_from("<I", buf, at)[0]
        (count,) = struct.unpack_from("<I", buf, vector)
    except struct.error:
        raise bad("an offset points outside the packet") from None
    if vector + 4 + count * DV_EVENT.itemsize > len(buf):
        raise bad(f"{count} events do not fit in its {len(buf)} bytes")
    return np.frombuffer(buf, DV_EVENT, count, vector + 4)
