"""Record any source to an AEDAT4 file, then prove nothing was lost by reading it back.

Events go to ``OUT.partial.aedat4`` as they arrive (uncompressed AEDAT4, written in bulk
from NumPy; nothing is held in memory). At the end dv-processing's ``MonoCameraWriter``
re-encodes that file with LZ4 into ``OUT.aedat4``, which is read back with dv-processing
and compared, count and checksum of every event, with what the source delivered.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from live_snn.errors import CorruptStreamError, LiveSnnError, StreamDroppedError
from live_snn.events import EVENT_DTYPE, EventBatch
from live_snn.outputs import check_outputs, named
from live_snn.sources.base import EventSource


class RecordingError(LiveSnnError):
    """The recording cannot be made or did not read back as written."""


@dataclass(frozen=True)
class RecordResult:
    path: Path
    events_written: int
    events_read_back: int
    checksum_written: str
    checksum_read_back: str
    first_us: int | None
    last_us: int | None
    # "end of source", "duration reached", "interrupted", "stream dropped: ...",
    # "source error: ..." (the events before the error are in the file)
    end_reason: str

    @property
    def verified(self) -> bool:
        return (
            self.events_written == self.events_read_back
            and self.checksum_written == self.checksum_read_back
        )


class StreamingChecksum:
    """The same digest as :func:`live_snn.events.events_checksum` of all events together,
    computed batch by batch."""

    def __init__(self) -> None:
        self._hash = hashlib.blake2b(digest_size=16)
        self.count = 0

    def update(self, events: np.ndarray) -> None:
        self._hash.update(np.ascontiguousarray(events.astype(EVENT_DTYPE, copy=False)).tobytes())
        self.count += len(events)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def partial_path_for(out_path: str | Path) -> Path:
    """``OUT.aedat4`` -> ``OUT.partial.aedat4``, where events go while they are recorded
    (dv-processing opens only names ending in .aedat4)."""
    out_path = Path(out_path)
    return out_path.with_name(f"{out_path.stem}.partial.aedat4")


def record(
    source: EventSource,
    out_path: str | Path,
    *,
    duration_s: float | None = None,
    force: bool = False,
    on_batch: Callable[[EventBatch], None] | None = None,
    compress: bool = True,
    partial: Path | None = None,
    on_finishing: Callable[[], None] | None = None,
) -> RecordResult:
    """Write the events of ``source`` to ``out_path`` (.aedat4) and verify them.

    ``duration_s`` stops after that much event time from the first event (and, for a live
    source, that much wall time, so a silent camera does not record forever). A dropped
    stream, Ctrl-C or a failing source ends the recording; the events received until then
    are kept. ``on_batch`` sees every batch written (e.g. to log predictions beside the
    file); ``on_finishing`` is called when the events are all in and the file is about to
    be finalised (the CLI then holds further signals off).

    When the events cannot be written (disk full) or the file cannot be finalised, the
    partial file is kept and :class:`RecordingError` names it and how to recover it.
    """
    from live_snn.sinks.aedat4_writer import Aedat4Writer

    out_path = Path(out_path)
    partial = partial_path_for(out_path) if partial is None else Path(partial)
    check_target(out_path, force, partial=partial)
    copy = _Copy(
        limit_us=None if duration_s is None else int(round(duration_s * 1e6)),
        wall_end=None if duration_s is None else time.monotonic() + duration_s,
        on_batch=on_batch)
    camera_name = getattr(source, "camera_name", None) or getattr(source, "name", "live_snn")
    try:
        writer = Aedat4Writer(partial, source.resolution, str(camera_name))
    except OSError as exc:
        raise RecordingError(f"cannot create {partial}: {exc.strerror or exc}") from None
    copy.run(source, writer, on_finishing)
    if copy.write_error is not None:
        raise RecordingError(_kept(partial, out_path, copy.checksum.count,
                                   f"cannot write {partial}: "
                                   f"{copy.write_error.strerror or copy.write_error}"))
    try:
        _finalise(partial, out_path, source.resolution, str(camera_name), compress)
    except (OSError, RuntimeError) as exc:
        raise RecordingError(_kept(partial, out_path, copy.checksum.count,
                                   f"cannot finalise {out_path}: {exc}")) from None
    read_back = _read_back(out_path)
    return RecordResult(
        path=out_path,
        events_written=copy.checksum.count,
        events_read_back=read_back.count,
        checksum_written=copy.checksum.hexdigest(),
        checksum_read_back=read_back.hexdigest(),
        first_us=copy.first_us,
        last_us=copy.last_us,
        end_reason=copy.end_reason,
    )


@dataclass
class _Copy:
    """The events of a source copied into the partial file as they arrive: how far it got
    and why it ended."""

    limit_us: int | None                  # event time after the first event to stop at
    wall_end: float | None                # monotonic time to stop a live source at
    on_batch: Callable[[EventBatch], None] | None
    checksum: StreamingChecksum = field(default_factory=StreamingChecksum)
    first_us: int | None = None
    last_us: int | None = None
    end_reason: str = "end of source"
    write_error: OSError | None = None

    def run(self, source: EventSource, writer, on_finishing: Callable[[], None] | None) -> None:
        """Copy until the source ends or fails, the duration is reached, a write fails or
        Ctrl-C; then close the writer (a failure to is a write error too)."""
        try:
            self._copy(source, writer)
        except CorruptStreamError as exc:  # events after the fault are lost: a failure
            self.end_reason = f"source error: {exc}"
        except StreamDroppedError as exc:  # the stream ended: everything sent was recorded
            self.end_reason = f"stream dropped: {exc}"
        except KeyboardInterrupt:
            self.end_reason = "interrupted"
        except LiveSnnError as exc:  # e.g. a damaged file: keep what was read before
            self.end_reason = f"source error: {exc}"
        except Exception as exc:  # the source itself crashed: what it delivered is kept
            self.end_reason = f"source error: the source failed ({type(exc).__name__}: {exc})"
        finally:
            if on_finishing is not None:
                on_finishing()
            try:
                writer.close()
            except OSError as exc:
                self.write_error = self.write_error or exc

    def _copy(self, source: EventSource, writer) -> None:
        for batch in source:
            if len(batch):
                batch = self._within_duration(batch)
                if len(batch) and not self._write(writer, batch):
                    return
            if self.end_reason == "duration reached":
                return
            if source.is_live and self.wall_end is not None and \
                    time.monotonic() >= self.wall_end:
                self.end_reason = "duration reached"
                return

    def _within_duration(self, batch: EventBatch) -> EventBatch:
        """``batch`` up to the duration (counted from the first event); cut there, the
        duration is reached."""
        if self.first_us is None:
            self.first_us = int(batch.t[0])
        if self.limit_us is not None and int(batch.t.max()) >= self.first_us + self.limit_us:
            batch = EventBatch(batch.events[batch.t < self.first_us + self.limit_us],
                               batch.resolution)
            self.end_reason = "duration reached"
        return batch

    def _write(self, writer, batch: EventBatch) -> bool:
        """Write a non-empty batch; False when the disk refused it."""
        try:
            writer.write(batch)
        except OSError as exc:
            self.write_error = exc
            self.end_reason = f"cannot write: {exc.strerror or exc}"
            return False
        self.checksum.update(batch.events)
        self.last_us = int(batch.t[-1])
        if self.on_batch is not None:
            self.on_batch(batch)
        return True


def recover(partial: str | Path, *, force: bool = False) -> RecordResult:
    """Turn ``NAME.partial.aedat4`` (left by a recording that did not end normally: power
    cut, kill, full disk) into ``NAME.aedat4``: every event up to the first damage (a packet
    cut short at the end) is kept and verified; the partial file goes once that worked."""
    from live_snn.sources.aedat4 import Aedat4Source

    partial = Path(partial)
    if not partial.name.endswith(".partial.aedat4"):
        raise RecordingError(f"{partial}: expected the partial file of a recording "
                             "(NAME.partial.aedat4)")
    if not partial.is_file():
        raise RecordingError(f"no partial recording at {partial}")
    out_path = partial.with_name(partial.name[: -len(".partial.aedat4")] + ".aedat4")
    recovering = out_path.with_name(f"{out_path.stem}.recovering.aedat4")
    recovering.unlink(missing_ok=True)  # an earlier recovery that did not finish
    check_target(out_path, force, partial=recovering)
    with Aedat4Source(partial) as source:
        result = record(source, out_path, force=force, partial=recovering)
    if result.verified:
        partial.unlink()
    return result


def check_target(out_path: str | Path, force: bool, *, partial: Path | None = None,
                 source: str | None = None) -> None:
    """Refuse a target that is not .aedat4, sits in a missing or unwritable folder, is the
    source, exists (unless ``force``), or whose partial file is there from an earlier
    session that did not finish (that one must be recovered or removed first)."""
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".aedat4":
        raise RecordingError(f"recordings are AEDAT4 files: {out_path} should end in .aedat4")
    if out_path.is_dir():
        raise RecordingError(f"{out_path} is a folder, not a file")
    if out_path.exists() and not force:
        raise RecordingError(f"{out_path} exists; use --overwrite to replace it")
    check_outputs([named("the recording", out_path)], inputs=[named("the source", source)],
                  overwrite=True)
    partial = partial_path_for(out_path) if partial is None else partial
    if partial.exists():
        raise RecordingError(
            f"{partial} is an unfinished recording from an earlier session: turn it into a "
            f"recording with `live-snn record --recover {partial}`, or remove it")


def _kept(partial: Path, out_path: Path, events: int, what: str) -> str:
    return (f"{what}; the {events} events recorded are kept in {partial}: `live-snn record "
            f"--recover {partial}` turns it into {out_path.name}")


def _finalise(partial: Path, out_path: Path, resolution, camera_name: str, compress: bool) -> None:
    """LZ4-encode with dv-processing's writer into a temporary file, then swap it in."""
    if not compress:
        os.replace(partial, out_path)
        return
    import dv_processing as dv

    encoded = out_path.with_name(f"{out_path.stem}.encoding.aedat4")
    encoded.unlink(missing_ok=True)
    reader = dv.io.MonoCameraRecording(str(partial))
    config = dv.io.MonoCameraWriter.EventOnlyConfig(
        camera_name, (resolution.width, resolution.height)
    )
    writer = dv.io.MonoCameraWriter(str(encoded), config)
    while (store := reader.getNextEventBatch()) is not None:  # packets of 10k events
        writer.writeEvents(store)
    del writer  # dv writes the file's index when the writer is destroyed
    del reader
    os.replace(encoded, out_path)
    partial.unlink()


def _read_back(path: Path) -> StreamingChecksum:
    from live_snn.sources.aedat4 import Aedat4Source

    checksum = StreamingChecksum()
    with Aedat4Source(path) as recorded:
        for batch in recorded:
            checksum.update(batch.events)
    return checksum
