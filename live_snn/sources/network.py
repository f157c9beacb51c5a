"""A DV network event stream: a DV software output, a ``dv.io.NetworkWriter`` or
``live-snn serve-sim``, over TCP or a Unix socket, decoded in Python
(:mod:`live_snn.sources.dv_stream`).

End of stream: the server going away (connection closed, reset) raises
:class:`StreamDroppedError` after the events that did arrive were yielded; iteration ends
normally only after ``close()``. So a consumer can tell "connection lost" (reconnect) from
"we stopped". ``end_reason`` keeps the last outcome as text.
"""

from __future__ import annotations

import contextlib
import select
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from live_snn.errors import CorruptStreamError, SourceError, StreamDroppedError
from live_snn.events import EventBatch
from live_snn.sources.base import EventSource
from live_snn.sources.dv_stream import DvPacketDecoder, DvStreamError, header_size, parse_header

DEFAULT_STALL_TIMEOUT_S = 10.0
RECEIVE_BYTES = 1 << 18


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
    """Events of a DV network stream, decoded by :mod:`live_snn.sources.dv_stream` (never
    by dv-processing, which takes the process down on a malformed stream).

    A stream that breaks the protocol ends with :class:`StreamDroppedError` naming the byte
    offset and packet, after every event before the fault was yielded; so does a stream that
    sends nothing for ``stall_timeout_s`` (None: wait forever). A peer that does not speak
    the DV protocol is refused at connection, with what it sent."""

    is_live = True

    def __init__(
        self,
        address: str,
        *,
        connect_timeout_s: float = 3.0,
        stall_timeout_s: float | None = DEFAULT_STALL_TIMEOUT_S,
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
        self._closed = threading.Event()
        self._socket = _connect(self.target, address, connect_timeout_s)
        try:
            header = parse_header(_receive_header(self._socket, address, connect_timeout_s))
        except DvStreamError as exc:
            self._socket.close()
            raise SourceError(f"{address} sent a DV header live_snn cannot use: {exc.what}") \
                from None
        except BaseException:
            self._socket.close()
            raise
        self._decoder = DvPacketDecoder(header)
        self.camera_name = header.camera_name
        self.resolution = header.resolution
        self.description = f"{address} ({self.camera_name}, {self.resolution})"

    def __iter__(self) -> Iterator[EventBatch]:
        try:
            yield from self._read()
            self.end_reason = "closed"
        except StreamDroppedError as exc:
            self.end_reason = str(exc)
            raise

    def _read(self) -> Iterator[EventBatch]:
        decoder, sock = self._decoder, self._socket
        last_data = last_yield = time.monotonic()
        while not self._closed.is_set():
            try:
                ready, _, _ = select.select([sock], [], [], self.heartbeat_s)
                data = sock.recv(RECEIVE_BYTES) if ready else None
            except (OSError, ValueError) as exc:
                if self._closed.is_set():
                    return
                raise self._dropped(
                    f"connection lost: {getattr(exc, 'strerror', None) or exc}") from None
            now = time.monotonic()
            if self._closed.is_set():  # closed from another thread: a clean end
                return
            if data == b"":
                raise self._dropped("connection lost: the server closed the stream")
            if data:
                last_data = now
                for events in decoder.feed(data):
                    if len(events):
                        self.events_read += len(events)
                        last_yield = now
                        yield EventBatch(events, self.resolution)
                if decoder.error is not None:
                    error = decoder.error
                    raise self._dropped(f"corrupt DV stream at {error.where()}: {error.what}",
                                        CorruptStreamError)
                continue
            if self.stall_timeout_s is not None and now - last_data > self.stall_timeout_s:
                raise self._dropped(f"no data for {self.stall_timeout_s:g} s (stream stalled)")
            if now - last_yield >= self.heartbeat_s:
                last_yield = now
                yield EventBatch.empty(self.resolution)

    def _dropped(self, what: str, kind: type[StreamDroppedError] = StreamDroppedError
                 ) -> StreamDroppedError:
        return kind(
            f"{self.address}: {what}; {self.events_read} events before that were delivered")

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()


def _connect(target: tuple[str, int] | str, address: str, timeout_s: float) -> socket.socket:
    if isinstance(target, tuple):
        family, where = socket.AF_INET6 if ":" in target[0] else socket.AF_INET, target
    else:
        if not Path(target).exists():
            raise SourceError(f"no Unix socket at {target}: nothing is serving a DV stream there")
        family, where = socket.AF_UNIX, target
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    try:
        sock.connect(where)
    except ConnectionRefusedError:
        sock.close()
        raise SourceError(f"nothing is listening at {address} (connection refused)") from None
    except TimeoutError:
        sock.close()
        raise SourceError(f"no answer from {address} within {timeout_s:g} s") from None
    except OSError as exc:
        sock.close()
        raise SourceError(f"cannot connect to {address}: {exc.strerror or exc}") from None
    return sock


def _receive_header(sock: socket.socket, address: str, timeout_s: float) -> bytes:
    """The stream's header, or a :class:`SourceError` saying what the peer sent instead."""
    head, closed = _receive_exactly(sock, 12, address, timeout_s)
    size = header_size(head)
    if size is None:
        if not head and closed:
            raise SourceError(f"{address} closed the connection right away, without sending "
                              "anything (a DV event stream starts with its header)")
        what = f"sent {head!r}" if head else f"sent nothing within {timeout_s:g} s"
        ending = ", then closed the connection" if head and closed else ""
        raise SourceError(f"{address} is not a DV event stream: it {what}{ending}")
    rest, closed = _receive_exactly(sock, size - len(head), address, timeout_s)
    if len(rest) < size - len(head):
        arrived = len(head) + len(rest)
        how = (f"then closed the connection after {arrived}" if closed
               else f"only {arrived} arrived within {timeout_s:g} s")
        raise SourceError(f"{address} sent a DV header of {size} bytes but {how}")
    return head + rest


def _receive_exactly(sock: socket.socket, n: int, address: str,
                     timeout_s: float) -> tuple[bytes, bool]:
    """Up to ``n`` bytes within ``timeout_s``, and whether the peer closed the connection
    before all of them came."""
    data = b""
    deadline = time.monotonic() + timeout_s
    try:
        while len(data) < n and time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(n - len(data))
            if not chunk:
                return data, True
            data += chunk
    except TimeoutError:
        pass
    except OSError as exc:
        raise SourceError(f"{address} dropped the connection: {exc.strerror or exc}") from None
    return data, False
