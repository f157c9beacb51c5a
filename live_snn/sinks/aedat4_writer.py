"""Write events to an uncompressed AEDAT4 file, vectorised.

dv-processing 2.0.4's Python API has no way to build an ``EventStore`` from NumPy other than
one ``push_back`` per event, so events are serialised here, directly in the AEDAT4 layout
that dv-processing reads (size-prefixed flatbuffers: ``IOHeader``, one ``EventPacket`` per
packet, ``FileDataTable`` index at the end). The data table is written by ``close()``; a file
that was not closed keeps ``dataTablePosition = -1``, which dv-processing still reads.
"""

from __future__ import annotations

import struct
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from live_snn.events import EventBatch, Resolution
from live_snn.sources.aedat4_format import VERSION_LINE

# dv-processing's in-memory event struct: int64 t, int16 x, int16 y, bool p, 3 bytes padding.
DV_EVENT = np.dtype(
    {
        "names": ["t", "x", "y", "p"],
        "formats": ["<i8", "<i2", "<i2", "u1"],
        "offsets": [0, 8, 10, 12],
        "itemsize": 16,
    }
)
EVENTS_PER_PACKET = 10_000  # what dv-processing's own writer uses
EVENT_STREAM_ID = 0
# One FileDataTable entry: a table of soffset, PacketHeader{stream id, size}, ByteOffset,
# NumElements, TimestampStart, TimestampEnd, padded to keep the int64 fields aligned.
TABLE_ENTRY = np.dtype(
    {
        "names": ["vtable", "stream", "size", "offset", "count", "t_start", "t_end"],
        "formats": ["<i4", "<i4", "<i4", "<i8", "<i8", "<i8", "<i8"],
        "offsets": [0, 4, 8, 12, 20, 28, 36],
        "itemsize": 48,
    }
)


class Aedat4Writer:
    """``write(batch)`` appends events; ``close()`` writes the index. Context manager."""

    def __init__(self, path: str | Path, resolution: Resolution, camera_name: str) -> None:
        self.path = Path(path)
        self.resolution = Resolution.of(resolution)
        self.camera_name = camera_name
        self.events_written = 0
        self._xml = _stream_xml(self.resolution, camera_name)
        self._index: list[tuple[int, int, int, int, int]] = []
        self._file = self.path.open("wb")
        self._file.write(VERSION_LINE + _io_header(-1, self._xml))

    def write(self, batch: EventBatch) -> None:
        for lo in range(0, len(batch), EVENTS_PER_PACKET):  # packets, not events
            part = batch.events[lo : lo + EVENTS_PER_PACKET]
            payload = _event_packet(part)
            position = self._file.tell()
            self._file.write(struct.pack("<ii", EVENT_STREAM_ID, len(payload)))
            self._file.write(payload)
            t = part["t"]
            self._index.append((position + 8, len(payload), len(part), int(t.min()), int(t.max())))
            self.events_written += len(part)

    def close(self) -> None:
        if self._file.closed:
            return
        table_position = self._file.tell()
        self._file.write(_data_table(self._index))
        self._file.seek(len(VERSION_LINE))
        self._file.write(_io_header(table_position, self._xml))
        self._file.close()

    def __enter__(self) -> Aedat4Writer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _stream_xml(resolution: Resolution, camera_name: str) -> bytes:
    name = escape(camera_name)
    return (
        '<dv version="2.0">\n'
        '    <node name="outInfo" path="/outInfo/">\n'
        '        <node name="0" path="/outInfo/0/">\n'
        '            <attr key="compression" type="string">NONE</attr>\n'
        '            <attr key="originalModuleName" type="string">live_snn</attr>\n'
        '            <attr key="originalOutputName" type="string">events</attr>\n'
        '            <attr key="typeDescription" type="string">Array of events (polarity ON/OFF).</attr>\n'
        '            <attr key="typeIdentifier" type="string">EVTS</attr>\n'
        '            <node name="info" path="/outInfo/0/info/">\n'
        f'                <attr key="sizeX" type="int">{resolution.width}</attr>\n'
        f'                <attr key="sizeY" type="int">{resolution.height}</attr>\n'
        f'                <attr key="source" type="string">{name}</attr>\n'
        "            </node>\n"
        "        </node>\n"
        "    </node>\n"
        "</dv>\n"
    ).encode()


def _io_header(data_table_position: int, xml: bytes) -> bytes:
    """Size-prefixed IOHeader{compression = NONE, dataTablePosition, infoNode}; its size
    does not depend on the position, so close() can rewrite it in place."""
    body = bytearray(b"\x18\x00\x00\x00IOHE" + b"\x00" * 6)  # root table at 24
    body += struct.pack("<5H", 10, 20, 4, 12, 8)  # vtable at 14
    body += struct.pack("<iiIq", 10, 0, 12, data_table_position)  # table at 24, string at 44
    body += struct.pack("<I", len(xml)) + xml + b"\x00"
    body += b"\x00" * (-len(body) % 8)
    return struct.pack("<i", len(body)) + bytes(body)


def _event_packet(events: np.ndarray) -> bytes:
    """Size-prefixed EventPacket flatbuffer, laid out as dv-processing writes it (the
    16-byte event records 8-byte aligned from the size prefix)."""
    records = np.zeros(len(events), dtype=DV_EVENT)
    records["t"] = events["t"]
    records["x"] = events["x"]
    records["y"] = events["y"]
    records["p"] = events["p"]
    head = (
        b"\x10\x00\x00\x00EVTS\x00\x00"  # root table at 16
        + struct.pack("<3H", 6, 8, 4)  # vtable at 10: one field at +4
        + struct.pack("<iI", 6, 4)  # table: vtable 6 back, vector 4 ahead
        + struct.pack("<I", len(records))
    )
    body = head + records.tobytes()
    return struct.pack("<I", len(body)) + body


def _data_table(index: list[tuple[int, int, int, int, int]]) -> bytes:
    """Size-prefixed FileDataTable: a vector of offsets to one table per packet, all
    sharing one vtable; entries are built as one structured array."""
    n = len(index)
    vector_at = 40
    entries_at = vector_at + 4 + 4 * n
    entries_at += -entries_at % 8  # int64 fields (at +12) 8-aligned counting the size prefix
    body = bytearray(entries_at + TABLE_ENTRY.itemsize * n)
    body[0:8] = b"\x10\x00\x00\x00FTAB"
    struct.pack_into("<3H", body, 10, 6, 8, 4)  # root vtable at 10
    struct.pack_into("<iI", body, 16, 6, vector_at - 20)  # root table at 16
    struct.pack_into("<7H", body, 24, 14, 44, 12, 4, 20, 28, 36)  # entries' vtable at 24
    struct.pack_into("<I", body, vector_at, n)
    slots = vector_at + 4 + 4 * np.arange(n, dtype=np.int64)
    positions = entries_at + TABLE_ENTRY.itemsize * np.arange(n, dtype=np.int64)
    np.frombuffer(body, "<u4", n, vector_at + 4)[:] = positions - slots
    if n:
        fields = np.asarray(index, dtype=np.int64)
        table = np.frombuffer(body, TABLE_ENTRY, n, entries_at)
        table["vtable"] = positions - 24
        table["stream"] = EVENT_STREAM_ID
        table["size"], table["offset"] = fields[:, 1], fields[:, 0]
        table["count"], table["t_start"], table["t_end"] = fields[:, 2], fields[:, 3], fields[:, 4]
    return struct.pack("<I", len(body)) + bytes(body)
