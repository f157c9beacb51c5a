"""A DV network event stream (``dv.io.NetworkReader``): a DV software output, a
``dv.io.NetworkWriter`` or ``live-snn serve-sim``, over TCP or a Unix socket.

End of stream: the server going away (connection closed, reset) raises
:class:`StreamDroppedError` after the events that did arrive were yielded; iteration ends
normally only after ``close()``. So a consumer can tell "connection lost" (reconnect) from
"we stopped". ``end_reason`` keeps the last outcome as text.
"""

from __future__ import annotations

import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

from live_snn.errors import SourceError, StreamDroppedError
from live_snn.events import EventBatch, Resolution
from live_snn.sources._polling import dv_error_summary, poll_dv_input
from live_snn.sources.base import EventSource

# The first bytes a DV server sends: int32 size, flatbuffer root offset, then "IOHE".
DV_STREAM_IDENTIFIER = b"IOHE"


def parse_address(address: str) -> tuple[str, int] | str:
    """``tcp://host:port`` -> (host, port); ``unix:/path`` or a socket path -> path."""
    if address.startswith("tcp://"):
        host, sep, port = address[len("tcp://") :].rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SourceError(f"bad network address {address!r}: expected tcp://HOST:PORT")
        return host.strip("[]"), int(port)
    path = address[len("unix:") :] if address.startswith("unix:") else address
    if not path:
        raise SourceError(f"bad network address {address!r}: expected unix:/path/to.sock")
    return path


def is_unix_socket(path: str | Path) -> bool:
    try:
        return stat.S_ISSOCK(Path(path).stat().st_mode)
    except OSError:
        return False


class NetworkSource(EventSource):
    is_live = True

    def __init__(
        self,
        address: str,
        *,
        connect_timeout_s: float = 3.0,
        stall_timeout_s: float | None = None,
        heartbeat_s: float = 0.05,
        poll_interval_s: float = 0.001,
    ) -> None:
        self.address = address
        self.target = parse_address(address)
        self.stall_timeout_s = stall_timeout_s
        self.heartbeat_s = heartbeat_s
        self.poll_interval_s = poll_interval_s
        self.events_read = 0
        self.end_reason: str | None = None
        self._counter = [0]
        self._closed = threading.Event()
        self._lock = threading.Lock()
        # dv's NetworkReader blocks forever, holding the GIL, if the peer never sends a
        # DV header; so check with a plain socket, under a timeout, that it does.
        _probe(self.target, address, connect_timeout_s)
        import dv_processing as dv

        try:
            if isinstance(self.target, tuple):
                self._reader = dv.io.NetworkReader(*self.target)
            else:
                self._reader = dv.io.NetworkReader(self.target)
        except RuntimeError as exc:
            raise SourceError(f"cannot connect to {address}: {dv_error_summary(exc)}") from None
        if not self._reader.isEventStreamAvailable():
            raise SourceError(f"{address} is a DV stream without events")
        self.camera_name = self._reader.getCameraName()
        self.resolution = Resolution.of(self._reader.getEventResolution())
        self.description = f"{address} ({self.camera_name}, {self.resolution})"

    def __iter__(self) -> Iterator[EventBatch]:
        if self._closed.is_set():
            return
        try:
            yield from poll_dv_input(
                self._reader.getNextEventBatch,
                self._reader.isRunning,
                resolution=self.resolution,
                name=self.address,
                closed=self._closed,
                lock=self._lock,
                counter=self._counter,
                heartbeat_s=self.heartbeat_s,
                poll_interval_s=self.poll_interval_s,
                stall_timeout_s=self.stall_timeout_s,
                lost_reason="connection lost: the server closed the stream",
            )
            self.end_reason = "closed"
        except StreamDroppedError as exc:
            self.end_reason = str(exc)
            raise
        finally:
            self.events_read = self._counter[0]

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._reader = None


def _probe(target: tuple[str, int] | str, address: str, timeout_s: float) -> None:
    if isinstance(target, tuple):
        family, where = socket.AF_INET6 if ":" in target[0] else socket.AF_INET, target
    else:
        if not Path(target).exists():
            raise SourceError(f"no Unix socket at {target}: nothing is serving a DV stream there")
        family, where = socket.AF_UNIX, target
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(timeout_s)
        try:
            probe.connect(where)
        except ConnectionRefusedError:
            raise SourceError(f"nothing is listening at {address} (connection refused)") from None
        except TimeoutError:
            raise SourceError(f"no answer from {address} within {timeout_s:g} s") from None
        except OSError as exc:
            raise SourceError(f"cannot connect to {address}: {exc.strerror or exc}") from None
        head = b""
        try:
            while len(head) < 12:
                chunk = probe.recv(12 - len(head))
                if not chunk:
                    break
                head += chunk
        except TimeoutError:
            pass
        except OSError as exc:
            raise SourceError(f"{address} dropped the connection: {exc.strerror or exc}") from None
    if head[8:12] != DV_STREAM_IDENTIFIER:
        what = f"sent {head!r}" if head else f"sent nothing within {timeout_s:g} s"
        raise SourceError(f"{address} is not a DV event stream: it {what}")
