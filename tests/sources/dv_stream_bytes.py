"""Test-only: the bytes of a DV network stream (header, then event packets) and a plain TCP
server that sends given bytes to every client, so that damaged streams can be served."""

from __future__ import annotations

import socket
import struct
import threading
import time

import numpy as np

from live_snn.events import EventBatch
from live_snn.sinks.aedat4_writer import EVENTS_PER_PACKET, _event_packet, _io_header, _stream_xml


def stream_header(resolution=(128, 128), camera="test") -> bytes:
    from live_snn.events import Resolution

    return _io_header(-1, _stream_xml(Resolution.of(resolution), camera))


def event_packets(events: EventBatch) -> list[bytes]:
    packets = []
    for lo in range(0, len(events), EVENTS_PER_PACKET):
        payload = _event_packet(events.events[lo:lo + EVENTS_PER_PACKET])
        packets.append(struct.pack("<ii", 0, len(payload)) + payload)
    return packets


def synthetic_events(n: int = 25_000, t0: int = 1_000_000) -> EventBatch:
    k = np.arange(n)
    return EventBatch.from_arrays(t0 + 50 * k, k % 128, (k // 128) % 128, k % 2, (128, 128))


class BytesServer:
    """Serves ``payload`` to every client on 127.0.0.1, then closes the connection or, with
    ``hold_s``, keeps it open that long sending nothing. Counts its clients."""

    def __init__(self, payload: bytes, *, hold_s: float = 0.0):
        self.payload = payload
        self.hold_s = hold_s
        self.clients = 0
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.address = f"tcp://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.clients += 1
            threading.Thread(target=self._send, args=(client,), daemon=True).start()

    def _send(self, client: socket.socket) -> None:
        try:
            client.sendall(self.payload)
            deadline = time.monotonic() + self.hold_s
            while time.monotonic() < deadline and not self._stop.is_set():
                time.sleep(0.02)
        except OSError:
            pass
        finally:
            client.close()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(2)

    def __enter__(self) -> BytesServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
