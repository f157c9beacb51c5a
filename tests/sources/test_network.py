from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest

from live_snn.errors import SourceError, StreamDroppedError
from live_snn.events import EventBatch, events_checksum
from live_snn.sources import open_source
from live_snn.sources.aedat4 import Aedat4Source
from live_snn.sources.network import NetworkSource, parse_address

pytest.importorskip("dv_processing")

RECORDING = "dvs128_arms_a.aedat4"


@pytest.fixture(scope="module")
def served_events(recordings_dir) -> np.ndarray:
    with Aedat4Source(recordings_dir / RECORDING) as source:
        return EventBatch.concatenate(list(source)).events


def receive_until_dropped(source: NetworkSource) -> tuple[np.ndarray, StreamDroppedError, int]:
    received, empty = [], 0
    with pytest.raises(StreamDroppedError) as dropped:
        for batch in source:
            if len(batch):
                received.append(batch.events)
            else:
                empty += 1
    return np.concatenate(received), dropped.value, empty


@pytest.mark.parametrize("transport", ["tcp", "unix"])
def test_stream_delivers_every_event_then_reports_the_server_gone(
    transport, recordings_dir, served_events, dv_server, tcp_port, tmp_path
):
    if transport == "tcp":
        address, spec = str(tcp_port), f"tcp://127.0.0.1:{tcp_port}"
    else:
        address = spec = str(tmp_path / "events.sock")
    server = dv_server(recordings_dir / RECORDING, address)
    source = open_source(spec)
    assert isinstance(source, NetworkSource) and source.is_live
    assert source.resolution == (128, 128) or source.resolution.width == 128
    assert source.camera_name == "DVS128_0279"
    started = time.monotonic()
    received, dropped, _ = receive_until_dropped(source)
    assert server.wait(timeout=10) == 0
    assert time.monotonic() - started < 15  # "server gone" is noticed in bounded time
    assert len(received) == len(served_events)
    assert events_checksum(received) == events_checksum(served_events)
    assert "connection lost" in str(dropped) and spec in str(dropped)
    assert source.events_read == len(served_events)
    assert source.end_reason == str(dropped)
    source.close()


def test_stalled_server_and_heartbeats(recordings_dir, served_events, dv_server, tcp_port):
    dv_server(recordings_dir / RECORDING, str(tcp_port), then="hold")
    source = NetworkSource(f"tcp://127.0.0.1:{tcp_port}", stall_timeout_s=1.0, heartbeat_s=0.05)
    received, dropped, empty = receive_until_dropped(source)
    assert len(received) == len(served_events)
    assert "no data for 1 s" in str(dropped)
    assert empty >= 5  # the consumer kept control while nothing arrived
    source.close()


def test_close_ends_iteration_cleanly(recordings_dir, dv_server, tcp_port):
    dv_server(recordings_dir / RECORDING, str(tcp_port), then="hold")
    source = NetworkSource(f"tcp://127.0.0.1:{tcp_port}")
    threading.Timer(1.5, source.close).start()
    n = sum(len(batch) for batch in source)  # returns, no exception
    assert n > 0 and source.end_reason == "closed"


def test_nothing_listening(tcp_port):
    started = time.monotonic()
    with pytest.raises(SourceError, match=rf"nothing is listening at tcp://127.0.0.1:{tcp_port}"):
        NetworkSource(f"tcp://127.0.0.1:{tcp_port}")
    assert time.monotonic() - started < 2


def test_missing_unix_socket(tmp_path):
    with pytest.raises(SourceError, match="no Unix socket at"):
        NetworkSource(f"unix:{tmp_path / 'none.sock'}")


@pytest.mark.parametrize("greeting", [b"", b"HTTP/1.1 200 OK\r\n\r\n"])
def test_a_server_that_is_not_dv_is_rejected_in_bounded_time(greeting):
    """dv's NetworkReader would wait forever (holding the GIL) for such a server."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]

        def answer():
            connection, _ = server.accept()
            connection.sendall(greeting)
            time.sleep(1.5)
            connection.close()

        threading.Thread(target=answer, daemon=True).start()
        started = time.monotonic()
        with pytest.raises(SourceError, match="is not a DV event stream"):
            NetworkSource(f"tcp://127.0.0.1:{port}", connect_timeout_s=0.5)
        assert time.monotonic() - started < 3


@pytest.mark.parametrize("bad", ["tcp://localhost", "tcp://:80", "tcp://host:99999", "unix:"])
def test_bad_addresses(bad):
    with pytest.raises(SourceError, match="bad network address"):
        parse_address(bad)


def test_address_forms():
    assert parse_address("tcp://127.0.0.1:7777") == ("127.0.0.1", 7777)
    assert parse_address("tcp://[::1]:7777") == ("::1", 7777)
    assert parse_address("unix:/tmp/x.sock") == "/tmp/x.sock"
