"""A ``dv.io.NetworkWriter`` in its own process, fed event batches through a pipe.

Why a process: dv-processing 2.0.4's ``NetworkWriter`` reports connection errors through a
Python callback called from its network thread, and its destructor joins that thread while
holding the GIL. Destroying a writer whose clients are connected, or have just left, or
(sometimes) whose acceptor is being cancelled, therefore deadlocks the interpreter. In a
child process the writer is never destroyed: when told to stop, the child flushes, waits
for clients to leave, reports, and ends with ``os._exit`` (the kernel closes the sockets).
The parent never holds a writer, so serving is safe inside any program (tests, GUI).

The child is ``python -m live_snn.sinks.network_writer CONFIG_JSON``: batches arrive on its
stdin as length-prefixed raw :data:`~live_snn.events.EVENT_DTYPE` records (length 0 =
stop), and it answers on stdout with one JSON line when ready and one when done.
"""

from __future__ import annotations

import collections
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np

from live_snn.errors import SourceError
from live_snn.events import EVENT_DTYPE, EventBatch

_START_TIMEOUT_S = 30.0
_LENGTH = struct.Struct("<Q")
_BOOST_WHERE = re.compile(r"\s*\[system:(\d+) at .*\]\s*$", re.DOTALL)


def to_dv_event_store(batch: EventBatch):
    """An ``EventBatch`` as a ``dv.EventStore``, which is what ``NetworkWriter`` takes.

    dv-processing 2.0.4's Python API has no bulk constructor from NumPy (``EventStore``
    only has ``push_back``; ``numpy()`` returns a copy), so events are appended by its C++
    ``push_back`` driven from C by ``map`` over plain lists, about 0.7 µs per event: the
    one place live_snn hands events to a library one by one, because the network writer
    accepts nothing else. It runs in the writer process, off the simulator's core.
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
class WriterReport:
    max_clients: int
    clients_left: int  # still connected when the writer process ended


def _reply(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def plain_socket_error(message: str) -> str:
    """dv-processing's socket errors end in where boost raised them ("bind: Address already
    in use [system:98 at /vcpkg/.../reactive_socket_service.hpp:162 in function '...']"): a
    user needs the reason and the error number, not the C++ source line."""
    found = _BOOST_WHERE.search(message)
    if found is None:
        return message
    return f"{message[:found.start()].rstrip()} (errno {found.group(1)})"


def _child_main(config: dict) -> None:
    """Child process body: open the writer, write what arrives, report, hard-exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    resolution = tuple(config["resolution"])
    try:
        import dv_processing as dv

        stream = dv.io.Stream.EventStream(0, "events", config["camera_name"], resolution)
        if config["socket_path"] is not None:
            writer = dv.io.NetworkWriter(config["socket_path"], stream)
        else:
            writer = dv.io.NetworkWriter(config["host"], config["port"], stream)
    except Exception as exc:  # reported to the parent, which raises SourceError
        _reply({"error": plain_socket_error(str(exc))})
        os._exit(1)
    _reply({"ready": True})
    incoming = sys.stdin.buffer
    max_clients = 0
    while True:
        header = incoming.read(_LENGTH.size)
        length = _LENGTH.unpack(header)[0] if len(header) == _LENGTH.size else 0
        max_clients = max(max_clients, int(writer.getClientCount()))
        if length == 0:  # stop, or the parent is gone
            break
        events = np.frombuffer(incoming.read(length), dtype=EVENT_DTYPE)
        writer.writeEvents(to_dv_event_store(EventBatch(events, resolution)))
    deadline = time.monotonic() + config["linger_s"]
    while writer.getQueuedPacketCount() > 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    while writer.getClientCount() > 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        _reply({"done": {"max_clients": max_clients, "clients_left": int(writer.getClientCount())}})
    finally:
        os._exit(0)  # never run the writer's destructor (see module docstring)


class NetworkWriterProcess:
    """Parent side: ``write(batch)`` sends a batch, ``close()`` stops the child and returns
    its :class:`WriterReport`. Give ``socket_path`` (a local socket) or ``host`` and ``port``."""

    def __init__(
        self,
        resolution: tuple[int, int],
        *,
        host: str | None = None,
        port: int | None = None,
        socket_path: str | None = None,
        camera_name: str = "DVS128Sim",
        linger_s: float = 2.0,
        where: str = "",
    ) -> None:
        self._where = where or (socket_path or f"tcp://{host}:{port}")
        self._linger_s = linger_s
        self.report: WriterReport | None = None
        config = dict(resolution=list(resolution), host=host, port=port, socket_path=socket_path,
                      camera_name=camera_name, linger_s=linger_s)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "live_snn.sinks.network_writer", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C in a terminal reaches the parent only
        )
        reply = self._read_reply(_START_TIMEOUT_S)
        if reply is None or "ready" not in reply:
            self._kill()
            what = reply["error"] if reply and "error" in reply else "the writer process did not start"
            raise SourceError(f"cannot serve on {self._where}: {what}")

    def _read_reply(self, timeout_s: float) -> dict | None:
        stdout = self._process.stdout
        ready, _, _ = select.select([stdout], [], [], timeout_s)
        if not ready:
            return None
        line = stdout.readline()
        return json.loads(line) if line else None

    def write(self, batch: EventBatch) -> None:
        if not len(batch):
            return  # a zero length means "stop"
        payload = np.ascontiguousarray(batch.events).tobytes()
        try:
            self._process.stdin.write(_LENGTH.pack(len(payload)) + payload)
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise SourceError(f"serving on {self._where}: the writer process died") from None

    def close(self) -> WriterReport:
        """Stop the writer (it lingers up to ``linger_s`` for clients to leave)."""
        if self.report is not None:
            return self.report
        report = WriterReport(0, 0)
        try:
            self._process.stdin.write(_LENGTH.pack(0))
            self._process.stdin.close()
            reply = self._read_reply(self._linger_s + 10)
            if reply and "done" in reply:
                report = WriterReport(**reply["done"])
        except (BrokenPipeError, OSError, ValueError):
            pass
        self._kill()
        self.report = report
        return report

    def _kill(self) -> None:
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)
        for stream in (self._process.stdin, self._process.stdout):
            if stream and not stream.closed:
                stream.close()


if __name__ == "__main__":
    _child_main(json.loads(sys.argv[1]))
