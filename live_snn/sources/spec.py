"""``open_source(spec)``: one string names any source, for the CLI and the GUI."""

from __future__ import annotations

from pathlib import Path

from live_snn.errors import CorruptFileError, SourceError
from live_snn.sources.base import EventSource, SeekableSource
from live_snn.sources.formats import identify_format
from live_snn.sources.network import DEFAULT_STALL_TIMEOUT_S
from live_snn.sources.paced import PacedSource, check_replay_speed

ACCEPTED_FORMS = (
    "a recording (FILE.aedat4, a DVS128 Gesture FILE.aedat, an N-MNIST FILE.bin), "
    "'camera' or 'camera:SERIAL', 'tcp://HOST:PORT', 'unix:/PATH' or an existing Unix "
    "socket path, 'sim:' or 'sim:key=value,...'"
)

NAMED_BY_SUFFIX = {".aedat4": "an AEDAT4 file", ".aedat": "an AEDAT 3.1 file",
                   ".bin": "an N-MNIST file"}


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
    """A recorded file (AEDAT4, DVS128 Gesture AEDAT 3.1, N-MNIST), unpaced; the format is
    told by the file's content (:func:`identify_format`), not by its name."""
    path = Path(spec).expanduser()
    if not path.is_file():
        if path.suffix.lower() in (".aedat4", ".aedat", ".bin"):
            raise SourceError(f"no such file: {path}")
        what = "it is a folder; name one recording in it" if path.is_dir() else \
            "not a file or source"
        raise SourceError(f"cannot open {spec!r}: {what}; expected {ACCEPTED_FORMS}")
    fmt = identify_format(path)
    if fmt.reader == "aedat4":
        from live_snn.sources.aedat4 import Aedat4Source

        return Aedat4Source(path)
    if fmt.reader == "aedat31":
        from live_snn.sources.dvs_gesture import DvsGestureSource

        return DvsGestureSource(path)
    if fmt.reader == "nmnist":
        from live_snn.sources.nmnist import NmnistSource

        return NmnistSource(path)
    named = NAMED_BY_SUFFIX.get(path.suffix.lower())
    despite = f"not {named} despite its name: " if named else ""
    raise CorruptFileError(
        f"cannot open {path}: {despite}{fmt.describe()}; live_snn reads AEDAT4, DVS128 "
        f"Gesture AEDAT 3.1 and N-MNIST .bin files", path=str(path))
