"""The engine on a real DV network stream: a dv-processing NetworkWriter (own process)
serves a real recording over TCP or a Unix socket; the engine must receive every event,
report the server going away, reconnect when it comes back, and end within bounds when it
does not."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from live_snn.engine.config import EngineConfig
from live_snn.engine.engine import Engine
from live_snn.errors import StreamDroppedError
from live_snn.events import EventBatch, events_checksum

pytest.importorskip("dv_processing")

RECORDING = "dvsgesture_sample_01.aedat4"


@pytest.fixture(scope="module")
def served(recordings_dir):
    from live_snn.sources.aedat4 import Aedat4Source

    with Aedat4Source(recordings_dir / RECORDING) as source:
        return EventBatch.concatenate(list(source)).events


class NetworkRun:
    def __init__(self, spec: str, ckpt, **config):
        config = {"device": "cpu", "record_taps": False, "reconnect_delay_s": 0.2, **config}
        self.engine = Engine(EngineConfig(**config))
        self.engine.open(spec)
        self.engine.load_model(ckpt)
        self.batches: list[np.ndarray] = []
        self.statuses = []
        self.predictions = []
        self.engine.subscribe_batches(lambda b: self.batches.append(b.events))
        self.engine.subscribe_status(self.statuses.append)
        self.engine.subscribe(self.predictions.append)

    @property
    def received(self) -> np.ndarray:
        return np.concatenate(self.batches)

    def kinds(self) -> list[str]:
        return [s.kind for s in self.statuses]


@pytest.mark.parametrize("transport", ["tcp", "unix"])
def test_engine_receives_every_event_and_survives_the_server_stopping(
    transport, recordings_dir, served, causal_ckpt, dv_server, tcp_port, tmp_path
):
    if transport == "tcp":
        address, spec = str(tcp_port), f"tcp://127.0.0.1:{tcp_port}"
    else:
        address = spec = str(tmp_path / "events.sock")
    server = dv_server(recordings_dir / RECORDING, address)
    run = NetworkRun(spec, causal_ckpt, reconnect_attempts=2, backpressure="process-all")
    started = time.monotonic()
    run.engine.start()
    assert run.engine.wait(30), "the engine hung after the server went away"
    assert time.monotonic() - started < 30
    assert server.wait(timeout=10) == 0
    stats = run.engine.stats()
    assert len(run.received) == len(served) == stats.events_in
    assert events_checksum(run.received) == events_checksum(served)
    # every received event is in a predicted bin; the bins follow each other
    assert sum(p.events for p in run.predictions) == len(served)
    assert [p.bin for p in run.predictions] == list(range(len(run.predictions)))
    # a clear report: dropped, retried (bounded), gave up, finished with the reason
    kinds = run.kinds()
    assert kinds.count("reconnecting") == 2 and "reconnected" not in kinds
    assert stats.state == "finished" and "gave up on" in stats.error
    assert "connection lost" in stats.error and spec in stats.error
    assert isinstance(run.engine.error, StreamDroppedError)
    run.engine.close()


def test_bins_closed_before_a_drop_are_not_held_up_by_the_retries(
    recordings_dir, causal_ckpt, dv_server, tcp_port, monkeypatch
):
    from .test_engine import slow_steps

    slow_steps(monkeypatch, 0.03)  # slower than the stream: closed bins wait at the drop
    delay_s = 2.0
    dv_server(recordings_dir / RECORDING, str(tcp_port))
    run = NetworkRun(f"tcp://127.0.0.1:{tcp_port}", causal_ckpt, reconnect_attempts=1,
                     reconnect_delay_s=delay_s)
    dropped_at: list[float] = []
    run.engine.subscribe_status(
        lambda s: s.kind == "stream_dropped" and not dropped_at and dropped_at.append(
            time.perf_counter()))
    stepped_at: list[float] = []
    run.engine.subscribe(lambda p: stepped_at.append(time.perf_counter()))
    run.engine.start()
    assert run.engine.wait(30)
    stats = run.engine.stats()
    assert "gave up on" in stats.error and stats.bins > 0
    # Only the bin still open at the drop may come after the retry; the closed ones came first.
    assert sum(t > dropped_at[0] + delay_s / 2 for t in stepped_at) <= 1
    assert stats.latency["queue"].max < delay_s * 1e3 / 2
    run.engine.close()


def test_engine_reconnects_when_the_server_comes_back(
    recordings_dir, served, causal_ckpt, dv_server, tcp_port
):
    spec = f"tcp://127.0.0.1:{tcp_port}"
    first = dv_server(recordings_dir / RECORDING, str(tcp_port))
    run = NetworkRun(spec, causal_ckpt, reconnect_attempts=12, reconnect_max_delay_s=0.5)
    dropped = threading.Event()
    run.engine.subscribe_status(lambda s: s.kind == "stream_dropped" and dropped.set())
    run.engine.start()
    assert dropped.wait(30)
    assert first.wait(timeout=10) == 0
    dv_server(recordings_dir / RECORDING, str(tcp_port))  # the same stream comes back
    assert run.engine.wait(60)
    stats = run.engine.stats()
    assert stats.reconnects == 1 and "reconnected" in run.kinds()
    both = np.concatenate([served, served])
    assert len(run.received) == len(both) == stats.events_in
    assert events_checksum(run.received) == events_checksum(both)
    bins = [p.bin for p in run.predictions]
    assert bins == sorted(set(bins))  # bin numbers go on after the reconnection
    run.engine.close()


def test_unreachable_stream_is_a_clear_error(causal_ckpt, tcp_port):
    from live_snn.errors import SourceError

    engine = Engine(EngineConfig(device="cpu"))
    with pytest.raises(SourceError, match=f"127.0.0.1:{tcp_port}.*refused"):
        engine.open(f"tcp://127.0.0.1:{tcp_port}")
