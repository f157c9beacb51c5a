"""Serve the live simulator over the DV network protocol (``dv.io.NetworkWriter``), so that
anything reading a DV event stream (``live-snn run tcp://...``, DV's own tools) can be
exercised without a camera.

Shutting the writer down needs care: dv-processing 2.0.4 reports a client's disconnection
by calling a Python callback from its network thread, while its destructor waits for that
thread holding the GIL, so destroying a ``NetworkWriter`` that still has (or has just
lost) a client deadlocks the process. We therefore stop writing, wait (``linger_s``) for
the clients to go, give the network thread a moment, and only then destroy the writer; if
clients stay connected, the writer is deliberately kept alive and the caller is told
(the ``serve-sim`` command then ends its process without running destructors).
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from live_snn.errors import SourceError
from live_snn.events import EventBatch
from live_snn.sim.recording import CAMERA_NAME
from live_snn.sources.sim import SimulatorSource

# Writers that could not be destroyed safely (clients still attached); kept referenced so
# that no destructor runs while the process lives.
_UNCLOSED_WRITERS: list[object] = []
_DISCONNECT_GRACE_S = 0.25


@dataclass(frozen=True)
class ServeAddress:
    """Where to serve: a TCP host and port, or a local (Unix) socket path."""

    host: str | None = None
    port: int | None = None
    socket_path: Path | None = None

    def __str__(self) -> str:
        return f"tcp://{self.host}:{self.port}" if self.socket_path is None else str(self.socket_path)


def parse_serve_address(text: str) -> ServeAddress:
    """``tcp://HOST:PORT`` or a socket path (``/path/to.sock`` or ``unix:/path/to.sock``)."""
    value = text.strip()
    if value.startswith("tcp://"):
        host, sep, port_text = value[len("tcp://") :].rpartition(":")
        if not sep or not host:
            raise SourceError(f"serve address {text!r}: expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:7777")
        try:
            port = int(port_text)
        except ValueError:
            raise SourceError(f"serve address {text!r}: port {port_text!r} is not a number") from None
        if not 1 <= port <= 65535:
            raise SourceError(f"serve address {text!r}: port {port} outside 1..65535")
        return ServeAddress(host=host.strip("[]"), port=port)
    if value.startswith("unix:"):
        value = value[len("unix:") :]
        value = value[2:] if value.startswith("//") else value
    if "/" in value or value.endswith(".sock"):
        return ServeAddress(socket_path=Path(value))
    raise SourceError(
        f"serve address {text!r}: expected tcp://HOST:PORT or a socket path such as /tmp/sim.sock"
    )


def to_dv_event_store(batch: EventBatch):
    """An ``EventBatch`` as a ``dv.EventStore``, which is what ``NetworkWriter`` takes.

    dv-processing 2.0.4's Python API has no bulk constructor from NumPy (``EventStore``
    only has ``push_back``; ``numpy()`` returns a copy), so events are appended by its C++
    ``push_back`` driven from C by ``map`` over plain lists, about 0.7 µs per event: the
    one place live_snn hands events to a library one by one, because the network writer
    accepts nothing else.
    """
    import dv_processing as dv

    store = dv.EventStore()
    if len(batch):
        collections.deque(
            map(
                store.push_back,
                batch.t.tolist(),
                batch.x.tolist(),
                batch.y.tolist(),
                batch.p.astype(bool).tolist(),
            ),
            maxlen=0,
        )
    return store


@dataclass(frozen=True)
class ServeStats:
    batches: int
    events: int
    simulated_s: float
    wall_s: float
    max_clients: int
    clients_left: int  # still connected at the end; > 0 means the writer was left open
    interrupted: bool


def _open_writer(address: ServeAddress, resolution: tuple[int, int]):
    import dv_processing as dv

    stream = dv.io.Stream.EventStream(0, "events", CAMERA_NAME, resolution)
    try:
        if address.socket_path is not None:
            if address.socket_path.exists():
                raise SourceError(
                    f"cannot serve on {address.socket_path}: the path exists (remove it if no "
                    f"server is using it)"
                )
            return dv.io.NetworkWriter(str(address.socket_path), stream)
        return dv.io.NetworkWriter(address.host, address.port, stream)
    except SourceError:
        raise
    except Exception as exc:  # dv-processing raises RuntimeError subclasses from C++
        raise SourceError(f"cannot serve on {address}: {exc}") from exc


def _close_writer(holder: list, linger_s: float) -> int:
    """Flush, wait for clients to leave, destroy the writer if that is safe.
    Returns the number of clients still connected (writer then left open)."""
    writer = holder[0]
    deadline = time.monotonic() + linger_s
    while writer.getQueuedPacketCount() > 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    while writer.getClientCount() > 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    clients = int(writer.getClientCount())
    if clients:
        _UNCLOSED_WRITERS.append(writer)
    else:
        time.sleep(_DISCONNECT_GRACE_S)  # let the network thread finish its disconnect callback
    del writer
    holder.clear()  # last reference: destroys the writer when no client is left
    return clients


def serve_simulator(
    source: SimulatorSource,
    address: ServeAddress,
    *,
    duration_s: float | None = None,
    stop: threading.Event | None = None,
    on_ready: Callable[[], None] | None = None,
    linger_s: float = 2.0,
) -> ServeStats:
    """Write the source's batches to a ``NetworkWriter`` until ``duration_s`` simulated
    seconds have been served, ``stop`` is set, the source ends, or Ctrl-C."""
    resolution = (source.resolution.width, source.resolution.height)
    holder = [_open_writer(address, resolution)]
    if on_ready is not None:
        on_ready()
    start_us = source.time_us
    wall_start = time.monotonic()
    batches = events = max_clients = 0
    interrupted = False
    try:
        for batch in source:
            # Only `holder` may reference the writer: see _close_writer.
            max_clients = max(max_clients, int(holder[0].getClientCount()))
            if len(batch):
                holder[0].writeEvents(to_dv_event_store(batch))
                events += len(batch)
            batches += 1
            if stop is not None and stop.is_set():
                break
            if duration_s is not None and source.time_us - start_us >= duration_s * 1e6:
                break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        source.close()
        clients_left = _close_writer(holder, linger_s)
        if address.socket_path is not None and not clients_left:
            with contextlib.suppress(OSError):
                address.socket_path.unlink()
    return ServeStats(
        batches=batches,
        events=events,
        simulated_s=(source.time_us - start_us) / 1e6,
        wall_s=time.monotonic() - wall_start,
        max_clients=max_clients,
        clients_left=clients_left,
        interrupted=interrupted,
    )
