"""Serve the live simulator over the DV network protocol (``dv.io.NetworkWriter``), so that
anything reading a DV event stream (``live-snn run tcp://...``, DV's own tools) can be
exercised without a camera. The writer itself runs in a child process (see
:mod:`live_snn.sinks.network_writer` for the dv-processing deadlock that avoids).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from live_snn.errors import SourceError
from live_snn.sinks.network_writer import NetworkWriterProcess
from live_snn.sinks.sim_session import CAMERA_NAME
from live_snn.sources.sim import SimulatorSource


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


def camera_addresses(first: ServeAddress, cameras: int) -> list[ServeAddress]:
    """Where ``cameras`` virtual cameras are served, starting at ``first``: consecutive TCP
    ports, or socket paths numbered ``NAME-2.sock``, ``NAME-3.sock``... after the first."""
    if cameras < 1:
        raise SourceError(f"the number of cameras must be at least 1, got {cameras}")
    if first.socket_path is None:
        if first.port + cameras - 1 > 65535:
            raise SourceError(f"{cameras} cameras from port {first.port} would need ports "
                              "beyond 65535")
        return [ServeAddress(host=first.host, port=first.port + k) for k in range(cameras)]
    path = first.socket_path
    return [first] + [ServeAddress(socket_path=path.with_name(f"{path.stem}-{k + 1}{path.suffix}"))
                      for k in range(1, cameras)]


@dataclass(frozen=True)
class ServeStats:
    batches: int
    events: int
    simulated_s: float
    wall_s: float
    max_clients: int
    clients_left: int  # still connected when the writer stopped (their streams just end)
    interrupted: bool


def serve_simulator(
    source: SimulatorSource,
    address: ServeAddress,
    *,
    duration_s: float | None = None,
    stop: threading.Event | None = None,
    on_ready: Callable[[], None] | None = None,
    linger_s: float = 2.0,
) -> ServeStats:
    """Write the source's batches to a network writer until ``duration_s`` simulated
    seconds have been served, ``stop`` is set, the source ends, or Ctrl-C. At the end the
    writer waits up to ``linger_s`` for clients to disconnect."""
    if address.socket_path is not None and address.socket_path.exists():
        raise SourceError(
            f"cannot serve on {address.socket_path}: the path exists (remove it if no server "
            f"is using it)"
        )
    writer = NetworkWriterProcess(
        (source.resolution.width, source.resolution.height),
        host=address.host,
        port=address.port,
        socket_path=None if address.socket_path is None else str(address.socket_path),
        camera_name=CAMERA_NAME,
        linger_s=linger_s,
        where=str(address),
    )
    if on_ready is not None:
        on_ready()
    start_us = source.time_us
    wall_start = time.monotonic()
    batches = events = 0
    interrupted = False
    try:
        for batch in source:
            writer.write(batch)
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
        report = writer.close()
        if address.socket_path is not None:
            with contextlib.suppress(OSError):
                address.socket_path.unlink()
    return ServeStats(
        batches=batches,
        events=events,
        simulated_s=(source.time_us - start_us) / 1e6,
        wall_s=time.monotonic() - wall_start,
        max_clients=report.max_clients,
        clients_left=report.clients_left,
        interrupted=interrupted,
    )
