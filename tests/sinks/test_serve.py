"""Serving the simulator with dv-processing's NetworkWriter. Scenarios that open network
connections run in a child process under a deadline: dv-processing 2.0.4 can block with
the GIL held, which no in-process timeout could interrupt."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from live_snn.errors import SourceError
from live_snn.events import EventBatch
from live_snn.sim import GestureSimulator, SimConfig
from live_snn.sinks.network_writer import to_dv_event_store
from live_snn.sinks.serve import ServeAddress, parse_serve_address

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_addresses():
    assert parse_serve_address("tcp://127.0.0.1:7777") == ServeAddress(host="127.0.0.1", port=7777)
    assert parse_serve_address("tcp://[::1]:7777") == ServeAddress(host="::1", port=7777)
    assert parse_serve_address("/tmp/sim.sock") == ServeAddress(socket_path=Path("/tmp/sim.sock"))
    assert parse_serve_address("unix:/tmp/s.sock") == ServeAddress(socket_path=Path("/tmp/s.sock"))
    assert str(parse_serve_address("tcp://localhost:80")) == "tcp://localhost:80"


def test_camera_addresses_count_up_from_the_first():
    from live_snn.sinks.serve import camera_addresses

    tcp = camera_addresses(parse_serve_address("tcp://127.0.0.1:7777"), 3)
    assert [str(a) for a in tcp] == ["tcp://127.0.0.1:7777", "tcp://127.0.0.1:7778",
                                     "tcp://127.0.0.1:7779"]
    paths = camera_addresses(parse_serve_address("/tmp/cam.sock"), 2)
    assert [str(a) for a in paths] == ["/tmp/cam.sock", "/tmp/cam-2.sock"]
    with pytest.raises(SourceError, match="beyond 65535"):
        camera_addresses(parse_serve_address("tcp://h:65535"), 2)
    with pytest.raises(SourceError, match="at least 1"):
        camera_addresses(parse_serve_address("tcp://h:1"), 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [("tcp://127.0.0.1", "expected tcp://HOST:PORT"), ("tcp://h:port", "'port' is not a number"),
     ("tcp://h:70000", "outside 1..65535"), ("localhost", "expected tcp://HOST:PORT or a socket")],
)
def test_bad_addresses(text, message):
    with pytest.raises(SourceError, match=message):
        parse_serve_address(text)


def test_event_store_conversion_keeps_every_event():
    config = SimConfig(seed=1, gesture_s=(1.5, 1.5), rest_s=(0.3, 0.3))
    batch = GestureSimulator(config).stream(index=0).advance_to(800_000)  # into the first gesture
    assert len(batch) > 1_000
    store = to_dv_event_store(batch)
    back = EventBatch.from_dv_numpy(store.numpy(), batch.resolution)
    assert np.array_equal(back.events, batch.events)
    assert len(to_dv_event_store(EventBatch.empty(batch.resolution))) == 0


def test_serving_over_a_unix_socket_delivers_the_simulated_stream(tmp_path):
    """serve_simulator in a thread, a real dv.io.NetworkReader reading; everything it reads
    is a contiguous stretch of the simulator's own stream for that seed."""
    socket_path = tmp_path / "sim.sock"
    received_file = tmp_path / "received.npy"
    code = f"""
        import json, threading, time
        import numpy as np
        import dv_processing as dv
        from live_snn.sim import SimConfig
        from live_snn.sinks.serve import parse_serve_address, serve_simulator
        from live_snn.sources.sim import SimulatorSource

        source = SimulatorSource(SimConfig(seed=6), speed=1.0)
        address = parse_serve_address({str(socket_path)!r})
        ready, stop, out = threading.Event(), threading.Event(), {{}}
        server = threading.Thread(target=lambda: out.setdefault(
            "stats", serve_simulator(source, address, duration_s=20, stop=stop, on_ready=ready.set)))
        server.start()
        assert ready.wait(20)
        reader = dv.io.NetworkReader({str(socket_path)!r})
        info = dict(resolution=list(reader.getEventResolution()), camera=reader.getCameraName())
        parts, deadline = [], time.monotonic() + 1.2
        while time.monotonic() < deadline:
            store = reader.getNextEventBatch()
            if store is None:
                time.sleep(0.005)
            else:
                parts.append(store.numpy())
        del reader
        stop.set()
        server.join(20)
        stats = out["stats"]
        np.save({str(received_file)!r}, np.concatenate(parts))
        print(json.dumps(dict(info, alive=server.is_alive(), clients_left=stats.clients_left,
                              served=stats.events, socket_left={str(socket_path)!r} and
                              __import__("os").path.exists({str(socket_path)!r}))))
    """
    try:
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                              text=True, timeout=90, cwd=REPO_ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail("serving over a Unix socket did not finish within 90 s (hang)")
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["resolution"] == [128, 128] and result["camera"] == "DVS128Sim"
    assert not result["alive"] and result["clients_left"] == 0 and not result["socket_left"]
    received = EventBatch.from_dv_numpy(np.load(received_file), (128, 128))
    assert 1_000 < len(received) <= result["served"]
    reference = GestureSimulator(SimConfig(seed=6)).stream().advance_to(received.t_last + 1)
    start = int(np.searchsorted(reference.t, received.t_first))
    assert np.array_equal(reference.events[start : start + len(received)], received.events)
