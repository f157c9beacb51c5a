"""``open_source(spec)``: one string names any source, for the CLI and the GUI."""

from __future__ import annotations

import re
from pathlib import Path

from live_snn.errors import CorruptFileError, SourceError
from live_snn.events import Resolution
from live_snn.sources.base import EventSource, SeekableSource
from live_snn.sources.formats import identify_format
from live_snn.sources.network import DEFAULT_STALL_TIMEOUT_S
from live_snn.sources.paced import PacedSource, check_replay_speed

ACCEPTED_FORMS = (
    "a recording (AEDAT4, AEDAT 3.1 / DVS128 Gesture, jAER AEDAT 2.0, Prophesee RAW or DAT, "
    "Event Stream, CSV, N-MNIST .bin; 'evt3:1280x720:FILE' for one whose header lacks its "
    "format or sensor size), "
    "'camera' or 'camera:SERIAL', 'tcp://HOST:PORT', 'unix:/PATH' or an existing Unix "
    "socket path, 'sim:' or 'sim:key=value,...'"
)

NAMED_BY_SUFFIX = {".aedat4": "an AEDAT4 file", ".aedat": "an AEDAT file",
                   ".bin": "an N-MNIST file", ".raw": "a Prophesee RAW file",
                   ".dat": "a Prophesee DAT file", ".es": "an Event Stream file",
                   ".csv": "a CSV event file"}
READ_FORMATS = ("AEDAT4, AEDAT 3.1 (DVS128 Gesture), jAER AEDAT 2.0 (DVS128), Prophesee RAW "
                "(EVT 2.0, 2.1, 3.0) and DAT, Event Stream, CSV and N-MNIST .bin files")
# "evt2:320x320:FILE": a file read as the named format, with this sensor size when the file
# does not give its own (a headerless Prophesee capture, a CSV without x@WIDTH).
FORCED = re.compile(r"^(evt2|evt21|evt2\.1|evt3|dat|csv)(?::(\d+)x(\d+))?:(.+)$", re.IGNORECASE)


def open_source(
    spec: str, *, speed: float | None = None, start_us: int | None = None,
    stall_timeout_s: float | None = DEFAULT_STALL_TIMEOUT_S,
) -> EventSource:
    """Open the source ``spec`` names. Recorded files start at ``start_us`` (first event
    at or after it) and are paced at ``speed`` x real time (None: as fast as possible). A
    network stream silent for ``stall_timeout_s`` is reported as stalled."""
    speed = check_replay_speed(speed)
    spec = spec.strip()
    source = _open_live(spec, stall_timeout_s)
    if source is not None:
        if speed is not None or start_us is not None:
            source.close()
            hint = " (the simulator takes sim:speed=X)" if spec.startswith("sim") else ""
            raise SourceError(
                f"{spec!r} is a live source: replay speed and start time apply to recordings{hint}"
            )
        return source
    recorded = open_recording(spec)
    try:
        if start_us is not None:
            recorded.seek(int(start_us))
        return recorded if speed is None else PacedSource(recorded, speed)
    except BaseException:
        recorded.close()
        raise


def _open_live(spec: str, stall_timeout_s: float | None) -> EventSource | None:
    if spec == "sim" or spec.startswith("sim:"):
        from live_snn.sources.sim import SimulatorSource

        return SimulatorSource.from_spec(spec)
    if spec == "camera" or spec.startswith("camera:"):
        from live_snn.sources.camera import CameraSource

        serial = spec.partition(":")[2].strip() or None
        return CameraSource(serial)
    from live_snn.sources.network import NetworkSource, is_unix_socket

    if spec.startswith(("tcp://", "unix:")) or is_unix_socket(spec):
        return NetworkSource(spec, stall_timeout_s=stall_timeout_s)
    return None


def open_recording(spec: str) -> SeekableSource:
    """A recorded file, unpaced; the format is told by the file's content
    (:func:`identify_format`), not by its name, unless the spec names it
    (``evt2:320x320:FILE``)."""
    forced = FORCED.match(spec)
    if forced is not None and not Path(spec).expanduser().is_file():
        reader = forced.group(1).lower().replace("evt2.1", "evt21")
        size = (Resolution(int(forced.group(2)), int(forced.group(3)))
                if forced.group(2) else None)
        path = Path(forced.group(4)).expanduser()
        if not path.is_file():
            raise SourceError(f"no such file: {path}")
        return open_file_as(path, reader, sensor_size=size)
    path = Path(spec).expanduser()
    if not path.is_file():
        if path.suffix.lower() in NAMED_BY_SUFFIX:
            raise SourceError(f"no such file: {path}")
        what = "it is a folder; name one recording in it" if path.is_dir() else \
            "not a file or source"
        raise SourceError(f"cannot open {spec!r}: {what}; expected {ACCEPTED_FORMS}")
    fmt = identify_format(path)
    if fmt.reader is not None:
        return open_file_as(path, fmt.reader)
    named = NAMED_BY_SUFFIX.get(path.suffix.lower())
    despite = f"not {named} despite its name: " if named and not _named_alike(named, fmt) \
        else ""
    what = fmt.describe().replace(":PATH", f":{path}")  # the spec that opens it, ready to use
    raise CorruptFileError(f"cannot open {path}: {despite}{what}; live_snn reads {READ_FORMATS}",
                           path=str(path))


def _named_alike(named: str, fmt) -> bool:
    """A .raw that is a Prophesee RAW (without its size), and so on: not 'despite its name'."""
    words = {"Prophesee RAW": "RAW", "Prophesee DAT": "DAT", "CSV events": "CSV",
             "AEDAT 2.0 (jAER)": "AEDAT"}
    return any(name in fmt.name and word in named for name, word in words.items()) or \
        ("EVT" in fmt.name and "RAW" in named)


def open_file_as(path: Path, reader: str, *, sensor_size: Resolution | None = None
                 ) -> SeekableSource:
    """``path`` read by live_snn's reader ``reader`` (a :class:`FileFormat` reader name)."""
    if reader == "aedat4":
        from live_snn.sources.aedat4 import Aedat4Source

        return Aedat4Source(path)
    if reader == "aedat31":
        from live_snn.sources.dvs_gesture import DvsGestureSource

        return DvsGestureSource(path)
    if reader == "nmnist":
        from live_snn.sources.nmnist import NmnistSource

        return NmnistSource(path)
    from live_snn.sources.scanned import ScannedFileSource

    if reader == "aedat2":
        from live_snn.sources.jaer import JaerReader

        return ScannedFileSource(JaerReader(path))
    if reader == "evt21":
        from live_snn.sources.evt21 import Evt21Reader

        return ScannedFileSource(Evt21Reader(path, sensor_size=sensor_size))
    from live_snn.sources.faery_files import FAERY_READERS, FaeryReader

    if reader in FAERY_READERS:
        return ScannedFileSource(FaeryReader(path, reader, sensor_size=sensor_size))
    raise SourceError(f"no reader named {reader!r}")
