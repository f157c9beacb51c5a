"""The fuzz harness's network half: a real recording served as a DV network stream,
mutated, through ``run`` and ``record``.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import numpy as np

from live_snn.bench.fuzz_mutations import mutate
from live_snn.bench.fuzz_report import BASES, STREAM_SECONDS, FuzzConfig
from live_snn.bench.fuzz_workers import Job, Runner, problems_of


class ByteServer:
    """Sends ``payload`` to every client on 127.0.0.1, then closes (after ``hold_s``)."""

    def __init__(self, payload: bytes, hold_s: float = 0.0):
        self.payload, self.hold_s = payload, hold_s
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.1)
        self.address = f"tcp://127.0.0.1:{self.listener.getsockname()[1]}"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._send, args=(client,), daemon=True).start()

    def _send(self, client: socket.socket) -> None:
        try:
            client.sendall(self.payload)
            self.stop.wait(self.hold_s)
        except OSError:
            pass
        finally:
            client.close()

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        self.thread.join(2)


def stream_bytes(config: FuzzConfig) -> tuple[bytes, int, list[int]]:
    """A real recording as a DV network stream: header, then 10k-event packets."""
    import struct

    from live_snn.events import EventBatch
    from live_snn.sinks.aedat4_writer import _event_packet, _io_header, _stream_xml
    from live_snn.sources.aedat4 import Aedat4Source

    with Aedat4Source(config.recordings / BASES[0]) as source:
        events = EventBatch.concatenate(list(source))
        header = _io_header(-1, _stream_xml(source.resolution, source.camera_name))
    data, packets = bytearray(header), []
    for lo in range(0, len(events), 10_000):
        payload = _event_packet(events.events[lo:lo + 10_000])
        packets.append(len(data))
        data += struct.pack("<ii", 0, len(payload)) + payload
    return bytes(data), len(header), packets


def fuzz_streams(config: FuzzConfig, runner: Runner, work: Path, model: Path,
                 stop: threading.Event | None = None) -> None:
    """The streams one after another on ``runner``; ``stop`` set: no further stream."""
    rng = np.random.default_rng(config.seed + 1)
    clean, header_end, packets = stream_bytes(config)
    for index in range(config.streams):
        if stop is not None and stop.is_set():
            return
        if index % 10 == 9:
            data, what, hold = clean[:header_end], "a header, then silence", 3.0
        elif index % 10 == 8:
            data = rng.integers(0, 256, 4096, np.uint8).tobytes()
            what, hold = "random bytes (not DV)", 0.0
        else:
            data, what = mutate(clean, rng, protect=header_end, packets=packets, event_bytes=[])
            hold = 0.0
        server = ByteServer(data, hold)
        label = f"stream {index} ({what})"
        try:
            for command, argv in (
                ("run", ["run", server.address, "--model", str(model), "--device", "cpu",
                         "--quiet", "--allow-remap", "--max-reconnects", "1", "--stall-timeout",
                         "1", "--duration", str(STREAM_SECONDS)]),
                ("record", ["record", server.address, str(work / f"s{index:03d}.aedat4"),
                            "--duration", str(STREAM_SECONDS)]),
            ):
                job = Job(f"{command} {label}", argv)
                answer = runner.run(job)
                with runner.lock:
                    if problems_of(job, answer, runner.report) and \
                            answer["rc"] not in (0, 1, 2):
                        runner.report.tracebacks.append(f"{job.label}: exit code {answer['rc']}")
        finally:
            server.close()
        with runner.lock:
            runner.report.streams += 1
            print(f"{label}: done", flush=True)
        for leftover in work.glob(f"s{index:03d}*"):
            leftover.unlink()
