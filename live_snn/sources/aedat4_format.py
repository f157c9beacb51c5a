"""The byte layout of AEDAT4 files, checked in Python before dv-processing sees a file.

An AEDAT4 file is a version line ``#!AER-DAT4.0\\r\\n``, an int32 size and a size-prefixed
flatbuffer ``IOHeader`` (compression, position of the data table, XML stream description),
then packets (int32 stream id, int32 size, payload) and, at ``dataTablePosition``, a
(compressed) ``FileDataTable`` that runs to the end of the file. dv-processing aborts the
process on some malformed headers and loops forever on others, so the parts that can be
checked without decompression are checked here, with messages that name the byte at fault.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

from live_snn.errors import CorruptFileError, SourceError

VERSION_LINE = b"#!AER-DAT4.0\r\n"
HEADER_IDENTIFIER = b"IOHE"
COMPRESSION_NAMES = {0: "none", 1: "lz4", 2: "lz4-high", 3: "zstd", 4: "zstd-high"}
LZ4_FRAME_MAGIC = b"\x04\x22\x4d\x18"
ZSTD_FRAME_MAGIC = b"\x28\xb5\x2f\xfd"
# Largest header dv-processing writes is a few kB of XML; anything this big is garbage.
MAX_HEADER_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Aedat4Header:
    path: Path
    file_size: int
    compression: str
    data_table_position: int  # -1 when the file was never finalised
    info_xml: str
    first_packet_position: int


def read_aedat4_header(path: str | Path) -> Aedat4Header:
    """Parse and check the version line, IOHeader and data-table framing of ``path``."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(len(VERSION_LINE) + 4)
            file_size = path.stat().st_size
            if head[: len(VERSION_LINE)] != VERSION_LINE:
                if len(head) < len(VERSION_LINE) and VERSION_LINE.startswith(head):
                    raise CorruptFileError(
                        f"{path}: truncated at byte {file_size}: the AEDAT4 version line "
                        f"is incomplete",
                        path=str(path),
                    )
                raise CorruptFileError(
                    f"{path}: not an AEDAT4 file: header is {head[: len(VERSION_LINE)]!r}, "
                    f"expected {VERSION_LINE!r}",
                    path=str(path),
                )
            if len(head) < len(VERSION_LINE) + 4:
                raise CorruptFileError(
                    f"{path}: truncated at byte {file_size}: no header size after the version line",
                    path=str(path),
                )
            (size,) = struct.unpack_from("<i", head, len(VERSION_LINE))
            start = len(VERSION_LINE) + 4
            if not 16 <= size <= MAX_HEADER_BYTES:
                raise CorruptFileError(
                    f"{path}: damaged AEDAT4 header: it declares {size} bytes at byte "
                    f"{len(VERSION_LINE)}, expected 16..{MAX_HEADER_BYTES}",
                    path=str(path),
                )
            if start + size > file_size:
                raise CorruptFileError(
                    f"{path}: truncated at byte {file_size}: the AEDAT4 header declares "
                    f"{size} bytes from byte {start}",
                    path=str(path),
                )
            header = f.read(size)
            compression, table_pos, xml = _parse_io_header(path, header, start)
            if table_pos >= 0:
                _check_data_table(path, f, table_pos, file_size, compression)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return Aedat4Header(
        path=path,
        file_size=file_size,
        compression=COMPRESSION_NAMES[compression],
        data_table_position=table_pos,
        info_xml=xml,
        first_packet_position=start + size,
    )


def _parse_io_header(path: Path, buf: bytes, offset: int) -> tuple[int, int, str]:
    """Fields of the IOHeader flatbuffer (compression, dataTablePosition, infoNode)."""

    def bad(what: str) -> CorruptFileError:
        return CorruptFileError(
            f"{path}: damaged AEDAT4 header (flatbuffer at byte {offset}): {what}",
            path=str(path),
        )

    if buf[4:8] != HEADER_IDENTIFIER:
        raise bad(f"identifier is {buf[4:8]!r}, expected {HEADER_IDENTIFIER!r}")
    try:
        (root,) = struct.unpack_from("<I", buf, 0)
        (vtable_back,) = struct.unpack_from("<i", buf, root)
        vtable = root - vtable_back
        vtable_size, _ = struct.unpack_from("<HH", buf, vtable)
        n_fields = max(0, (vtable_size - 4) // 2)
        fields = struct.unpack_from(f"<{n_fields}H", buf, vtable + 4)
        fields = fields + (0,) * (3 - len(fields))
        compression = struct.unpack_from("<i", buf, root + fields[0])[0] if fields[0] else 0
        table_pos = struct.unpack_from("<q", buf, root + fields[1])[0] if fields[1] else -1
        xml = ""
        if fields[2]:
            at = root + fields[2]
            string_at = at + struct.unpack_from("<I", buf, at)[0]
            (length,) = struct.unpack_from("<I", buf, string_at)
            raw = buf[string_at + 4 : string_at + 4 + length]
            if len(raw) != length:
                raise bad("stream description runs past the header")
            xml = raw.decode("utf-8", errors="replace")
    except struct.error as exc:
        raise bad(f"an offset points outside the header ({exc})") from None
    if compression not in COMPRESSION_NAMES:
        raise bad(f"unknown compression type {compression}")
    return compression, table_pos, xml


def _check_data_table(path: Path, f, table_pos: int, file_size: int, compression: int) -> None:
    """The data table must lie inside the file and, when LZ4-compressed, be a complete LZ4
    frame (its block sizes are walked to the end mark without decompressing)."""
    if table_pos + 8 > file_size:
        raise CorruptFileError(
            f"{path}: truncated at byte {file_size}: its data table (packet index) should "
            f"start at byte {table_pos}",
            path=str(path),
        )
    f.seek(table_pos)
    table = f.read(file_size - table_pos)
    if compression in (1, 2):
        _check_lz4_frame(path, table, table_pos, file_size)
    elif compression in (3, 4) and table[:4] != ZSTD_FRAME_MAGIC:
        raise CorruptFileError(
            f"{path}: damaged data table at byte {table_pos}: expected a zstd frame, "
            f"found {table[:4]!r}",
            path=str(path),
        )


def _check_lz4_frame(path: Path, frame: bytes, offset: int, file_size: int) -> None:
    if frame[:4] != LZ4_FRAME_MAGIC:
        raise CorruptFileError(
            f"{path}: damaged data table at byte {offset}: expected an LZ4 frame, found "
            f"{frame[:4]!r}",
            path=str(path),
        )
    flags = frame[4]
    pos = 7 + (8 if flags & 0x08 else 0) + (4 if flags & 0x01 else 0)
    block_checksum = 4 if flags & 0x10 else 0
    while True:  # a data table is a few blocks of at most 4 MB each, not events
        if pos + 4 > len(frame):
            raise CorruptFileError(
                f"{path}: truncated at byte {file_size}: the data table's LZ4 frame "
                f"(from byte {offset}) has no end mark",
                path=str(path),
            )
        (block,) = struct.unpack_from("<I", frame, pos)
        pos += 4
        if block == 0:
            break
        pos += (block & 0x7FFFFFFF) + block_checksum
    pos += 4 if flags & 0x04 else 0
    if pos != len(frame):
        where = "is cut short" if pos > len(frame) else f"ends at byte {offset + pos}"
        raise CorruptFileError(
            f"{path}: truncated or damaged at byte {offset + min(pos, len(frame))}: the data "
            f"table's LZ4 frame {where} but the file ends at byte {file_size}",
            path=str(path),
        )


def event_stream_id(info_xml: str) -> int:
    """The id of the stream whose type is ``EVTS`` in the header's stream description (0,
    what every DV writer uses, when the description does not say)."""
    for match in re.finditer(r'path="/outInfo/(\d+)/">(.*?)</node>', info_xml, re.DOTALL):
        if re.search(r'key="typeIdentifier"[^>]*>EVTS<', match.group(2)):
            return int(match.group(1))
    return 0


@dataclass(frozen=True)
class PacketLayout:
    """Where the event packets of a file start, walked from the packet headers (stream id,
    size) without decompressing; ``problem`` names the first framing fault, if any."""

    event_packet_offsets: tuple[int, ...]
    problem: str | None = None

    def describe_packet(self, index: int) -> str:
        """``packet 3 of the event stream (byte 81234)``, the byte where its header starts."""
        if 0 <= index < len(self.event_packet_offsets):
            return f"packet {index} of the event stream (byte {self.event_packet_offsets[index]})"
        return f"packet {index} of the event stream"


def packet_layout(header: Aedat4Header) -> PacketLayout:
    """Walk the packet headers of ``header.path`` up to its data table (or its end)."""
    events_id = event_stream_id(header.info_xml)
    end = header.data_table_position if header.data_table_position >= 0 else header.file_size
    offsets: list[int] = []
    position = header.first_packet_position
    try:
        with header.path.open("rb") as f:
            while position < end:
                f.seek(position)
                head = f.read(8)
                if len(head) < 8:
                    return PacketLayout(tuple(offsets), f"truncated at byte {header.file_size}: "
                                        f"a packet header at byte {position} is incomplete")
                stream, size = struct.unpack("<ii", head)
                if size < 0 or position + 8 + size > end:
                    return PacketLayout(tuple(offsets), f"the packet at byte {position} declares "
                                        f"{size} bytes, past the end of the packets at byte {end}")
                if stream == events_id:
                    offsets.append(position)
                position += 8 + size
    except OSError as exc:
        return PacketLayout(tuple(offsets), f"cannot read it: {exc.strerror or exc}")
    return PacketLayout(tuple(offsets))
