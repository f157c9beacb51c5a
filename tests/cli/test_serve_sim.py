"""``live-snn serve-sim``: a real server process on 127.0.0.1, read by a real
``dv.io.NetworkReader``, within a deadline (network parts run in child processes)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from live_snn.events import EventBatch
from live_snn.sim import GestureSimulator, SimConfig

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_serve_sim_streams_the_seeded_simulation_to_a_network_reader(tmp_path, tcp_port,
                                                                   read_line):
    port = tcp_port
    server = subprocess.Popen(
        [sys.executable, "-m", "live_snn", "serve-sim", f"tcp://127.0.0.1:{port}",
         "--seed", "5", "--duration", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT,
    )
    try:
        assert "gesture simulator" in read_line(server, 60, "serving")
        received = tmp_path / "received.npy"
        client = f"""
            import json, time
            import numpy as np
            import dv_processing as dv
            reader = dv.io.NetworkReader("127.0.0.1", {port})
            info = dict(resolution=list(reader.getEventResolution()), camera=reader.getCameraName())
            parts, deadline = [], time.monotonic() + 1.0
            while time.monotonic() < deadline:
                store = reader.getNextEventBatch()
                if store is None:
                    time.sleep(0.005)
                else:
                    parts.append(store.numpy())
            np.save({str(received)!r}, np.concatenate(parts))
            del reader
            print(json.dumps(info))
        """
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(client)], capture_output=True,
                              text=True, timeout=60, cwd=REPO_ROOT)
        assert done.returncode == 0, done.stderr[-2000:]
        info = json.loads(done.stdout.strip().splitlines()[-1])
        out, err = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0, err[-2000:]
    assert info == {"resolution": [128, 128], "camera": "DVS128Sim"}
    assert "served" in out and "up to 1 client(s)" in out
    events = EventBatch.from_dv_numpy(np.load(received), (128, 128))
    assert len(events) > 300  # a second of a session that starts at rest: noise and a gesture's onset
    reference = GestureSimulator(SimConfig(seed=5)).stream().advance_to(events.t_last + 1)
    start = int(np.searchsorted(reference.t, events.t_first))
    assert np.array_equal(reference.events[start : start + len(events)], events.events)


def test_serve_sim_reports_a_busy_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "live_snn", "serve-sim", f"tcp://127.0.0.1:{port}", "--duration", "1"],
            capture_output=True, text=True, timeout=60, cwd=REPO_ROOT,
        )
    assert done.returncode == 2
    assert f"cannot serve on tcp://127.0.0.1:{port}: bind: Address already in use (errno 98)" \
        in done.stderr
    assert ".hpp" not in done.stderr  # not where in dv-processing's C++ it was raised


def test_a_camera_that_cannot_serve_stops_the_others(tcp_ports):
    """A bench missing a camera is not the bench that was asked for: the camera on the busy
    port says why, the others finish their streams, and the command ends (it used to serve
    the others until Ctrl-C, saying nothing more on stdout)."""
    free_port, = tcp_ports(1)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        busy_port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "live_snn", "serve-sim", f"tcp://127.0.0.1:{free_port}",
             f"tcp://127.0.0.1:{busy_port}", "--linger", "0.2"],
            capture_output=True, text=True, timeout=120, cwd=REPO_ROOT,
        )
    assert done.returncode == 2, done.stderr
    assert f"error: tcp://127.0.0.1:{busy_port}: cannot serve on" in done.stderr
    assert f"tcp://127.0.0.1:{busy_port} failed; stopping the other cameras" in done.stderr
    assert f"on tcp://127.0.0.1:{free_port} (interrupted)" in done.stdout


def test_serve_sim_rejects_a_bad_address():
    done = subprocess.run(
        [sys.executable, "-m", "live_snn", "serve-sim", "localhost:7777"],
        capture_output=True, text=True, timeout=60, cwd=REPO_ROOT,
    )
    assert done.returncode == 2 and "expected tcp://HOST:PORT" in done.stderr


def start_cameras(tcp_ports, read_line, *options: str, cameras: int = 2):
    """``serve-sim`` serving ``cameras`` cameras on free ports, in a session of its own (so
    that its whole process group can be signalled or killed); returns the server, the ports
    and each camera's "serving" line. Started again (three tries in all) when a port probed
    free was taken by another process before the camera bound it: a race outside the code
    under test. A camera that never says it serves fails the test with every thread's stack
    of every camera (SIGUSR1, faulthandler): that is how the lines interleaved on the shared
    pipe were found, which once held CI to its time limit."""
    import os
    import signal

    for attempt in range(3):
        ports = tcp_ports(cameras)
        server = subprocess.Popen(
            [sys.executable, "-m", "live_snn", "serve-sim",
             *[f"tcp://127.0.0.1:{port}" for port in ports], *options],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT,
            start_new_session=True,
        )
        serving = []
        try:
            for _ in ports:
                serving.append(read_line(server, 60, "serving", kill=False))
            return server, ports, serving
        except pytest.fail.Exception as failure:
            if server.poll() is None:  # alive but silent: where is each thread?
                os.killpg(server.pid, signal.SIGUSR1)
                time.sleep(1.0)
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
                pytest.fail(f"{failure}; read {serving}; every thread's stack:\n"
                            f"{server.stderr.read()[-6000:]}")
            if attempt == 2 or "Address already in use" not in str(failure):
                raise
    raise AssertionError("unreachable")


def test_a_camera_writes_each_line_in_one_write():
    """The cameras share the server's stdout; with unbuffered output (PYTHONUNBUFFERED, as
    under CI) ``print`` wrote a line's text and its newline in two writes, so two cameras'
    "serving" lines could interleave into one and a reader waiting for the second waited
    forever (the hang that held CI to its 90 minutes)."""
    from live_snn.cli.serve_sim import say

    class Writes:
        def __init__(self):
            self.calls = []

        def write(self, text):
            self.calls.append(text)

        def flush(self):
            self.calls.append("<flush>")

    stream = Writes()
    say("serving gesture simulator on tcp://127.0.0.1:7777", stream)
    assert stream.calls == ["serving gesture simulator on tcp://127.0.0.1:7777\n", "<flush>"]


def test_serve_sim_serves_several_cameras_each_its_own_person(causal_ckpt, tcp_ports, read_line):
    import os
    import signal

    from live_snn.engine.config import EngineConfig
    from live_snn.engine.multi_engine import MultiStreamEngine

    # Ctrl-C below reaches the server's whole process group, as in a terminal
    server, ports, serving = start_cameras(tcp_ports, read_line, "--seed", "5", "--linger", "0.5")
    try:
        assert sorted("seed 5," in line for line in serving) == [False, True]
        assert sorted("seed 6," in line for line in serving) == [False, True]
        engine = MultiStreamEngine(EngineConfig(device="cpu", record_taps=False))
        names = [engine.add(f"tcp://127.0.0.1:{port}") for port in ports]
        engine.load_model(causal_ckpt)
        received: dict[str, list[np.ndarray]] = {name: [] for name in names}
        engine.subscribe_batches(lambda name, batch: received[name].append(batch.events))
        engine.start()
        time.sleep(1.0)
        engine.stop()
        stats = engine.stats()
        os.killpg(server.pid, signal.SIGINT)
        out, err = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)  # the cameras too: they hold its pipes
            server.wait()
    assert server.returncode == 130, err[-2000:]  # interrupted, each camera's stream ended
    assert all(f"on tcp://127.0.0.1:{port} (interrupted)" in out for port in ports), out
    for seed, name in zip((5, 6), names, strict=True):
        events = EventBatch(np.concatenate(received[name]), (128, 128))
        assert len(events) > 300 and stats.streams[name].events_in == len(events)
        reference = GestureSimulator(SimConfig(seed=seed)).stream().advance_to(events.t_last + 1)
        start = int(np.searchsorted(reference.t, events.t_first))
        assert np.array_equal(reference.events[start:start + len(events)], events.events), name


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_a_signal_to_the_server_alone_stops_every_camera(tcp_ports, read_line, signal_name):
    """A supervisor signals the server process, not its process group: the cameras (processes
    of their own) must stop too, each finishing its stream."""
    import os
    import signal

    server, ports, _ = start_cameras(tcp_ports, read_line, "--linger", "0.2")
    try:
        server.send_signal(getattr(signal, signal_name))
        out, err = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert server.returncode == 130, err
    assert all(f"on tcp://127.0.0.1:{port} (interrupted)" in out for port in ports), out
