"""Errors a user can act on. Every message names the thing at fault (file, index, value)
and what was expected; the CLI prints ``str(error)`` on one line and exits non-zero, the GUI
shows it in the window."""

from __future__ import annotations


class LiveSnnError(Exception):
    """Base of every error live_snn raises on purpose."""


class SourceError(LiveSnnError):
    """An event source cannot deliver events (bad spec, unreachable, unreadable)."""


class CorruptFileError(SourceError):
    """A recording is not of the expected format, truncated or damaged.

    ``events_read`` says how many events were delivered before the damage, so that a
    caller keeps what was good."""

    def __init__(self, message: str, *, path: str | None = None, events_read: int = 0):
        super().__init__(message)
        self.path = path
        self.events_read = events_read


class CameraNotFoundError(SourceError):
    """No camera (or not the requested serial) is connected."""


class StreamDroppedError(SourceError):
    """A live stream (network, camera) stopped delivering: server gone, camera unplugged."""


class CorruptStreamError(StreamDroppedError):
    """A live stream that broke its protocol: what came after the fault is lost (a stream
    that merely ended lost nothing). Reconnecting may still help, as for any dropped stream."""


class BinningError(LiveSnnError):
    """Events cannot be binned as asked (e.g. timestamps going backwards)."""


class TimestampOrderError(BinningError):
    def __init__(self, message: str, *, index: int):
        super().__init__(message)
        self.index = index


class CheckpointError(LiveSnnError):
    """A checkpoint cannot be loaded (not safetensors, missing metadata)."""


class CheckpointMismatchError(CheckpointError):
    """A checkpoint does not match what it is used with (binning, resolution, T, classes)."""
