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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live_snn.errors import LiveSnnError, StreamDroppedError
from live_snn.events import EVENT_DTYPE, EventBatch
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


def record(
    source: EventSource,
    out_path: str | Path,
    *,
    duration_s: float | None = None,
    force: bool = False,
    on_batch: Callable[[EventBatch], None] | None = None,
    compress: bool = True,
) -> RecordResult:
    """Write the events of ``source`` to ``out_path`` (.aedat4) and verify them.

    ``duration_s`` stops after that much event time from the first event (and, for a live
    source, that much wall time, so a silent camera does not record forever). A dropped
    stream or Ctrl-C ends the recording; the events received until then are kept.
    ``on_batch`` sees every batch written (e.g. to log predictions beside the file).
    """
    from live_snn.sinks.aedat4_writer import Aedat4Writer

    out_path = Path(out_path)
    check_target(out_path, force)
    # dv-processing opens only names ending in .aedat4
    partial = out_path.with_name(f"{out_path.stem}.partial.aedat4")
    checksum = StreamingChecksum()
    first_us = last_us = None
    end_reason = "end of source"
    limit_us = None if duration_s is None else int(round(duration_s * 1e6))
    wall_end = None if duration_s is None else time.monotonic() + duration_s
    camera_name = getattr(source, "camera_name", None) or getattr(source, "name", "live_snn")
    writer = Aedat4Writer(partial, source.resolution, str(camera_name))
    try:
        for batch in source:
            if len(batch):
                if first_us is None:
                    first_us = int(batch.t[0])
                if limit_us is not None and int(batch.t.max()) >= first_us + limit_us:
                    batch = EventBatch(
                        batch.events[batch.t < first_us + limit_us], batch.resolution
                    )
                    end_reason = "duration reached"
                if len(batch):
                    writer.write(batch)
                    checksum.update(batch.events)
                    last_us = int(batch.t[-1])
                    if on_batch is not None:
                        on_batch(batch)
            if end_reason == "duration reached":
                break
            if source.is_live and wall_end is not None and time.monotonic() >= wall_end:
                end_reason = "duration reached"
                break
    except StreamDroppedError as exc:
        end_reason = f"stream dropped: {exc}"
    except KeyboardInterrupt:
        end_reason = "interrupted"
    except LiveSnnError as exc:  # e.g. a damaged file: keep what was read before
        end_reason = f"source error: {exc}"
    finally:
        writer.close()
    _finalise(partial, out_path, source.resolution, str(camera_name), compress)
    read_back = _read_back(out_path)
    return RecordResult(
        path=out_path,
        events_written=checksum.count,
        events_read_back=read_back.count,
        checksum_written=checksum.hexdigest(),
        checksum_read_back=read_back.hexdigest(),
        first_us=first_us,
        last_us=last_us,
        end_reason=end_reason,
    )


def check_target(out_path: str | Path, force: bool) -> None:
    """Refuse a target that is not .aedat4, sits in a missing folder or exists (unless
    ``force``)."""
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".aedat4":
        raise RecordingError(f"recordings are AEDAT4 files: {out_path} should end in .aedat4")
    if not out_path.parent.is_dir():
        raise RecordingError(f"folder {out_path.parent} does not exist (for {out_path.name})")
    if out_path.exists() and not force:
        raise RecordingError(f"{out_path} exists; use --force to overwrite it")
    if out_path.is_dir():
        raise RecordingError(f"{out_path} is a folder, not a file")


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
