"""The text and binary headers of the formats read through faery or by live_snn's own small
readers: Prophesee RAW and DAT (``% key value`` lines), Event Stream, CSV and jAER AEDAT 2.0.
They are parsed here, before any decoder sees the file, so that detection, ``info`` and the
sources agree on version, sensor size and where the data starts."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from live_snn.events import MAX_SENSOR_SIDE, Resolution

# Prophesee RAW versions as the ``% evt`` line and the ``% format`` field spell them.
RAW_VERSIONS = {"2": "evt2", "2.0": "evt2", "2.1": "evt21", "3": "evt3", "3.0": "evt3",
                "evt2": "evt2", "evt21": "evt21", "evt2.1": "evt21", "evt3": "evt3"}
RAW_VERSION_NAMES = {"evt2": "EVT 2.0", "evt21": "EVT 2.1", "evt3": "EVT 3.0"}
# The longest header a real recording has is a few kB; stop looking after this much.
MAX_TEXT_HEADER = 64 * 1024
EVENT_STREAM_MAGIC = b"Event Stream"
ES_TYPES = {0: "generic", 1: "dvs", 2: "atis", 4: "color"}


@dataclass(frozen=True)
class PropheseeHeader:
    """``kind``: "raw" or "dat"; ``version``: "evt2" / "evt21" / "evt3" for RAW, "dat1" /
    "dat2" for DAT, None when the header does not say; ``length``: bytes before the data
    (for DAT, before its two type/size bytes); ``legacy_halves``: EVT 2.1 from an IMX636,
    whose 64-bit words come as two 32-bit halves, high half first."""

    kind: str
    version: str | None
    resolution: Resolution | None
    sensor: str
    length: int
    fields: dict[str, str] = field(default_factory=dict)
    legacy_halves: bool = False

    @property
    def declared_size(self) -> str | None:
        """The sensor size as the header spells it, valid or not."""
        if self.fields.get("geometry"):
            return self.fields["geometry"].strip()
        if "Width" in self.fields or "Height" in self.fields:
            return f"{self.fields.get('Width', '?')}x{self.fields.get('Height', '?')}"
        return None


def split_text_header(head: bytes, prefix: bytes) -> tuple[list[str], int]:
    """The ``prefix``-started lines at the start of ``head`` and the byte after them (a RAW
    header's ``% end`` line is the last)."""
    lines, pos = [], 0
    while head[pos : pos + len(prefix)] == prefix and pos < MAX_TEXT_HEADER:
        end = head.find(b"\n", pos)
        if end < 0:
            break
        line = head[pos:end].rstrip(b"\r").decode("latin-1")
        lines.append(line)
        pos = end + 1
        if prefix == b"%" and line.strip() == "% end":
            break
    return lines, pos


def read_prophesee_header(head: bytes) -> PropheseeHeader:
    lines, length = split_text_header(head, b"%")
    fields: dict[str, str] = {}
    for line in lines:
        key, _, value = line[1:].strip().partition(" ")
        if key and key != "end":
            fields.setdefault(key, value.strip())
    format_field = dict(
        part.partition("=")[::2] for part in fields.get("format", "").split(";")[1:] if "=" in part
    )
    format_name = fields.get("format", "").split(";")[0].strip().lower()
    is_raw = "evt" in fields or format_name.startswith("evt") or any(
        line.strip() == "% end" for line in lines)
    if is_raw:
        spelled = fields.get("evt", "").strip().lower() or format_name
        version = RAW_VERSIONS.get(spelled)
    else:
        match = re.match(r"(\d+)", fields.get("Version", ""))
        version = f"dat{match.group(1)}" if match and match.group(1) in ("1", "2") else None
    resolution = _geometry(fields, format_field)
    sensor = " ".join(fields[k] for k in ("camera_integrator_name", "plugin_name",
                                          "sensor_name") if fields.get(k)) \
        or "sensor not named in the header"
    return PropheseeHeader(
        kind="raw" if is_raw else "dat", version=version, resolution=resolution, sensor=sensor,
        length=length, fields=fields,
        legacy_halves=format_field.get("endianness", "").strip().lower() == "legacy")


def _geometry(fields: dict[str, str], format_field: dict[str, str]) -> Resolution | None:
    candidates = []
    match = re.fullmatch(r"\s*(\d+)\s*x\s*(\d+)\s*", fields.get("geometry", ""))
    if match:
        candidates.append((match.group(1), match.group(2)))
    if "width" in format_field and "height" in format_field:
        candidates.append((format_field["width"], format_field["height"]))
    if "Width" in fields and "Height" in fields:
        candidates.append((fields["Width"], fields["Height"]))
    for width, height in candidates:
        if width.strip().isdigit() and height.strip().isdigit():
            return sensor_resolution(int(width), int(height))
    return None


def sensor_resolution(width: int, height: int) -> Resolution | None:
    """The resolution, or None for one no sensor has (0, or more than MAX_SENSOR_SIDE)."""
    if 0 < width <= MAX_SENSOR_SIDE and 0 < height <= MAX_SENSOR_SIDE:
        return Resolution(width, height)
    return None


@dataclass(frozen=True)
class EventStreamHeader:
    version: str
    event_type: str  # generic, dvs, atis, color (or "type N" for an unknown one)
    resolution: Resolution | None
    length: int


def read_event_stream_header(head: bytes) -> EventStreamHeader | None:
    """``Event Stream``, version (3 bytes), type (1 byte), then for typed streams the width
    and height (uint16 each); None when ``head`` is too short for that."""
    if not head.startswith(EVENT_STREAM_MAGIC) or len(head) < 16:
        return None
    version = ".".join(str(b) for b in head[12:15])
    event_type = ES_TYPES.get(head[15], f"type {head[15]}")
    if event_type == "generic":
        return EventStreamHeader(version, event_type, None, 16)
    if len(head) < 20:
        return None
    width, height = struct.unpack_from("<HH", head, 16)
    return EventStreamHeader(version, event_type, sensor_resolution(width, height), 20)


CSV_HEADER = re.compile(r"^\s*t\s*,\s*x(?:@(\d+))?\s*,\s*y(?:@(\d+))?\s*,\s*(?:on|p|polarity)\s*$",
                        re.IGNORECASE)
CSV_ROW = re.compile(r"^\s*\d+\s*,\s*\d+\s*,\s*\d+\s*,\s*[01]\s*$")


@dataclass(frozen=True)
class CsvHeader:
    has_header: bool
    resolution: Resolution | None


def read_csv_header(head: bytes) -> CsvHeader | None:
    """Events as ``t,x,y,on`` text lines (µs, pixels, 0/1), with faery's header line
    ``t,x@WIDTH,y@HEIGHT,on`` (or ``t,x,y,p``) or none; None when ``head`` is not that."""
    try:
        text = head[:4096].decode("ascii")
    except UnicodeDecodeError:
        return None
    lines = [line for line in text.splitlines()[:6] if line.strip()]
    if len(text) == 4096 and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    if not lines:
        return None
    header = CSV_HEADER.match(lines[0])
    rows = lines[1:] if header else lines
    if not rows or not all(CSV_ROW.match(row) for row in rows):
        return None
    if header is None:
        return CsvHeader(False, None)
    width, height = header.group(1), header.group(2)
    resolution = sensor_resolution(int(width), int(height)) if width and height else None
    return CsvHeader(True, resolution)


@dataclass(frozen=True)
class JaerHeader:
    chip: str  # the AEChip class named in the header, or "" when it names none
    length: int

    @property
    def chip_name(self) -> str:
        return self.chip.rsplit(".", 1)[-1] if self.chip else "chip not named in the header"


def read_jaer_header(head: bytes) -> JaerHeader:
    lines, length = split_text_header(head, b"#")
    chip = ""
    for line in lines:
        match = re.match(r"#\s*AEChip:\s*(\S+)", line)
        if match:
            chip = match.group(1)
    return JaerHeader(chip=chip, length=length)
