"""Events written through faery in the format OUT's extension names: ``.aedat4``, ``.raw``
(Prophesee EVT 3.0, or EVT 2.0), ``.dat`` (Prophesee DAT), ``.es`` (Event Stream), ``.csv``
(``t,x@W,y@H,on``). Backs ``live-snn convert``; the result is read back through live_snn's
own sources and compared (count and checksum) before it takes OUT's name.

Timestamps are written as they are (no shift to zero: RAW and DAT keep them in full, Event
Stream would lose the offset), and the order checks of the sources hold, so every writer
gets non-decreasing, non-negative timestamps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live_snn.errors import CorruptFileError, LiveSnnError
from live_snn.events import EVENT_DTYPE, EventBatch, Resolution
from live_snn.outputs import atomic_output

FAERY_EVENTS = np.dtype([("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("on", "?")])
DAT_EVENTS = np.dtype([("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("payload", "u1")])
WRITTEN_FORMATS = {".aedat4": "AEDAT4", ".raw": "Prophesee RAW", ".dat": "Prophesee DAT",
                   ".es": "Event Stream", ".csv": "CSV"}
RAW_VERSIONS = ("evt3", "evt2")
# The latest timestamp written to these formats: DAT holds 32-bit µs, and faery's RAW and
# Event Stream encoders walk from 0 to the first timestamp (time-high / overflow words), so a
# recording with wall-clock (epoch) timestamps would become a file of many GB. Past it,
# ``convert --from-zero`` shifts the timestamps.
TIME_LIMIT_US = {".dat": 2**32 - 1, ".raw": 2**32 - 1, ".es": 2**32 - 1}
# EVT 3.0 through faery 0.7.1: timestamps from 2^24 µs on (the first wrap of EVT 3.0's 24-bit
# time) read back wrong, so live_snn writes EVT 3.0 only below it (EVT 2.0 counts 34 bits).
EVT3_LIMIT_US = 2**24 - 1


class ConvertError(LiveSnnError):
    """The events cannot be written as asked (format, order, a failed read-back)."""


def output_format(path: Path) -> str:
    """The suffix of ``path`` that names a format faery writes."""
    suffix = path.suffix.lower()
    if suffix not in WRITTEN_FORMATS:
        names = ", ".join(f"{s} ({n})" for s, n in WRITTEN_FORMATS.items())
        raise ConvertError(f"cannot tell the format of {path} from its extension "
                           f"{suffix or '(none)'}: expected {names}")
    return suffix


def _faery_events(events: np.ndarray) -> np.ndarray:
    out = np.empty(len(events), dtype=FAERY_EVENTS)
    out["t"], out["x"], out["y"], out["on"] = events["t"], events["x"], events["y"], events["p"]
    return out


class EventFileWriter:
    """``write(batch)`` per batch, ``close()`` to finish; the format from ``path``'s suffix
    (``raw_version`` for ``.raw``). Out-of-order timestamps are refused, naming the event."""

    def __init__(self, path: str | Path, resolution: Resolution, *, raw_version: str = "evt3",
                 from_zero: bool = False):
        from faery import extension

        self.path = Path(path)
        self.suffix = output_format(self.path)
        self.from_zero = from_zero
        self.shift_us = 0  # subtracted from every timestamp (from_zero: the first one)
        self.resolution = resolution
        self.count = 0
        self.last_t: int | None = None
        self._digest = hashlib.blake2b(digest_size=16)
        dims = (resolution.width, resolution.height)
        self.raw_version = raw_version
        if raw_version not in RAW_VERSIONS:
            raise ConvertError(f"RAW version {raw_version!r}: faery writes {RAW_VERSIONS}")
        if self.suffix == ".aedat4":
            self._encoder = extension.aedat.Encoder(self.path, _aedat4_description(dims),
                                                    extension.aedat.LZ4_DEFAULT)
            self._write: Callable[[np.ndarray], None] = \
                lambda e: self._encoder.write(0, _faery_events(e))
        elif self.suffix == ".raw":
            self._encoder = extension.evt.Encoder(self.path, raw_version, False, dims, True)
            self._write = lambda e: self._encoder.write({"events": _faery_events(e)})
        elif self.suffix == ".dat":
            self._encoder = extension.dat.Encoder(self.path, "dat2", "cd", False, dims)
            self._write = lambda e: self._encoder.write(_faery_events(e).astype(
                DAT_EVENTS, casting="unsafe"))
        elif self.suffix == ".es":
            self._encoder = extension.es.Encoder(self.path, "dvs", False, dims)
            self._write = self._write_event_stream
        else:
            self._encoder = extension.csv.Encoder(self.path, ord(","), True, dims, True)
            self._write = lambda e: self._encoder.write(_faery_events(e))
        self._encoder.__enter__()

    def _write_event_stream(self, events: np.ndarray) -> None:
        flipped = _faery_events(events)  # Event Stream's origin is bottom-left
        flipped["y"] = self.resolution.height - 1 - events["y"].astype(np.int32)
        self._encoder.write(flipped)

    def write(self, batch: EventBatch) -> None:
        events = batch.events
        if not len(events):
            return
        if self.from_zero:
            if self.count == 0:
                self.shift_us = int(events["t"][0])
            events = events.copy()
            events["t"] -= self.shift_us
        t = events["t"]
        limit = TIME_LIMIT_US.get(self.suffix)
        if self.suffix == ".raw" and self.raw_version == "evt3" and \
                int(t[-1]) > EVT3_LIMIT_US:
            i = int(np.argmax(t > EVT3_LIMIT_US))
            raise ConvertError(
                f"event {self.count + i} has timestamp {int(t[i])} us: EVT 3.0 files written "
                f"by faery 0.7.1 read back wrong past {EVT3_LIMIT_US / 1e6:.1f} s (its 24-bit "
                "time wraps): use --evt 2")
        if limit is not None and int(t[-1]) > limit:
            i = int(np.argmax(t > limit))
            raise ConvertError(
                f"event {self.count + i} has timestamp {int(t[i])} us, past the "
                f"{limit / 3.6e9:.1f} h that live_snn writes to {WRITTEN_FORMATS[self.suffix]} "
                "files (wall-clock timestamps?): pass --from-zero to start the file at 0 us")
        before = np.concatenate([[t[0] if self.last_t is None else self.last_t], t[:-1]])
        bad = (t < before) | (t < 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ConvertError(f"event {self.count + i} has timestamp {int(t[i])} us after "
                               f"{int(before[i])} us: {WRITTEN_FORMATS[self.suffix]} files "
                               "need timestamps that do not go back")
        self._write(events)
        self._digest.update(np.ascontiguousarray(events, dtype=EVENT_DTYPE).tobytes())
        self.count += len(events)
        self.last_t = int(t[-1])

    @property
    def checksum(self) -> str:
        """:func:`live_snn.events.events_checksum` of everything written, built as it goes."""
        return self._digest.hexdigest()

    def close(self) -> None:
        encoder, self._encoder = getattr(self, "_encoder", None), None
        if encoder is not None:
            encoder.__exit__(None, None, None)


def _aedat4_description(dims: tuple[int, int]) -> list:
    """The stream description dv-processing and faery read: one event stream, id 0."""
    from faery.extension import aedat

    def attribute(kind: str, value):
        return aedat.DescriptionAttribute(kind, value)

    info = aedat.DescriptionNode("info", "/mainloop/Recorder/outInfo/0/info/", {
        "sizeX": attribute("int", dims[0]), "sizeY": attribute("int", dims[1]),
        "source": attribute("string", "live_snn convert")}, [])
    stream = aedat.DescriptionNode("0", "/mainloop/Recorder/outInfo/0/", {
        "compression": attribute("string", "LZ4"),
        "originalOutputName": attribute("string", "events"),
        "typeIdentifier": attribute("string", "EVTS")}, [info])
    return [aedat.DescriptionNode("outInfo", "/mainloop/Recorder/outInfo/", {}, [stream])]


@dataclass(frozen=True)
class ConvertResult:
    path: Path
    format: str
    events: int
    checksum: str
    first_us: int | None
    last_us: int | None
    damage: str | None  # the input's damage: the events before it were converted
    shift_us: int = 0  # subtracted from every timestamp (--from-zero)


def convert(batches: Iterable[EventBatch], resolution: Resolution, out: str | Path, *,
            raw_version: str = "evt3", from_zero: bool = False) -> ConvertResult:
    """Write ``batches`` to ``out`` (format by suffix) under a temporary name, read the file
    back through live_snn's sources, and give it its name only when the events match. A
    damaged input (:class:`CorruptFileError` from ``batches``) ends the input: the events
    before the damage are written, and ``damage`` says what it was. ``from_zero``: timestamps
    shifted so that the first event is at 0 µs (``shift_us`` says by how much)."""
    from live_snn.events import events_checksum
    from live_snn.sources.spec import open_recording

    out = Path(out)
    suffix = output_format(out)
    damage = None
    first = None
    with atomic_output(out, f"{WRITTEN_FORMATS[suffix]} file") as tmp:
        writer = EventFileWriter(tmp, resolution, raw_version=raw_version, from_zero=from_zero)
        try:
            try:
                for batch in batches:
                    if len(batch) and first is None:
                        first = int(batch.t[0]) - (int(batch.t[0]) if from_zero else 0)
                    writer.write(batch)
            except CorruptFileError as exc:
                damage = str(exc)
        finally:
            writer.close()
        with open_recording(str(tmp)) as back:
            read = [b.events for b in back]
        events = np.concatenate(read) if read else np.empty(0, dtype=EVENT_DTYPE)
        if len(events) != writer.count or events_checksum(events) != writer.checksum:
            raise ConvertError(f"{out}: read back {len(events)} events (checksum "
                               f"{events_checksum(events)}) but {writer.count} were written "
                               f"(checksum {writer.checksum}); the file was not kept")
    return ConvertResult(out, WRITTEN_FORMATS[suffix], writer.count, writer.checksum, first,
                         writer.last_t, damage, writer.shift_us)
