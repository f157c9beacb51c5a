"""Shared fixtures. Real recordings live in ../shared/data (never copied into the repo);
tests that need them skip with the reason when the folder is absent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Qt tests run without a display; set before any Qt import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One intra-op thread: CI has 2 cores and the engine, Qt and pytest threads share them;
# torch's default (one thread per core) oversubscribes them and makes small steps 10x slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LIVE_SNN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real recordings not found at {SHARED_DATA} (set LIVE_SNN_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def recordings_dir(shared_data: Path) -> Path:
    path = shared_data / "recordings"
    if not path.is_dir():
        pytest.skip(f"no recordings folder at {path}")
    return path


@pytest.fixture(scope="session")
def nmnist_dir(shared_data: Path) -> Path:
    path = shared_data / "nmnist-small"
    if not path.is_dir():
        pytest.skip(f"no N-MNIST subset at {path}")
    return path


@pytest.fixture(scope="session")
def all_recordings(recordings_dir: Path) -> list[Path]:
    return sorted(recordings_dir.glob("*.aedat4"))


@pytest.fixture(scope="session")
def gesture_sample(recordings_dir: Path) -> Path:
    """A real DVS128 Gesture trial (1.45 s, 128x128): the default real recording of tests."""
    path = recordings_dir / "dvsgesture_sample_01.aedat4"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


DV_STREAM_SERVER = REPO_ROOT / "tests" / "sources" / "dv_stream_server.py"


@pytest.fixture
def dv_server():
    """``start(recording, address, then="exit") -> Popen``: a real dv-processing NetworkWriter
    serving ``recording`` from its own process (``tests/sources/dv_stream_server.py``), already
    listening on ``address`` (a TCP port on 127.0.0.1 or a Unix socket path). It serves the
    first client that stays connected, then exits (the server goes away) or, with
    ``then="hold"``, keeps the connection open sending nothing."""
    processes: list[subprocess.Popen] = []

    def start(recording: Path, address: str, then: str = "exit") -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, str(DV_STREAM_SERVER), str(recording), address,
             "--then", then, "--max-seconds", "30"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        read_line_within(process, 60, "listening")
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()
        process.stderr.close()


@pytest.fixture
def tcp_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    return free_tcp_ports(1)[0]


def free_tcp_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports on 127.0.0.1 that nothing listens on (right now): the probes
    are held together, so the kernel cannot hand out the same port twice."""
    import contextlib
    import socket

    with contextlib.ExitStack() as held:
        probes = [held.enter_context(socket.socket()) for _ in range(n)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]


@pytest.fixture
def tcp_ports():
    """``tcp_ports(n)``: see :func:`free_tcp_ports`."""
    return free_tcp_ports


def read_line_within(process: subprocess.Popen, timeout_s: float, prefix: str = "", *,
                     kill: bool = True) -> str:
    """The first line of ``process``'s stdout that starts with ``prefix``, within
    ``timeout_s``. A blocking ``readline`` would hang the suite (and CI) on a child that stays
    alive without printing; here the test fails, naming the child's stderr, and the child is
    killed (its whole process group when it leads one, so no grandchild keeps it alive),
    unless ``kill`` is False (the caller wants to look at it first).

    Reads the pipe a byte at a time, below Python's buffers, so nothing after the line is
    taken: ``communicate()`` or ``stdout.readline()`` afterwards go on from the next line."""
    import select
    import signal
    import time

    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout_s
    line = bytearray()
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([fd], [], [], left)[0]:
            break
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
        if byte == b"\n":
            text = line.decode(errors="replace")
            if text.startswith(prefix):
                return text
            line.clear()
    why = "ended" if process.poll() is not None else f"printed nothing more in {timeout_s:g} s"
    if process.poll() is None and not kill:
        pytest.fail(f"{process.args[:4]} {why} without a line starting {prefix!r}")
    if process.poll() is None:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    process.wait()
    pytest.fail(f"{process.args[:4]} {why} without a line starting {prefix!r}; stderr: "
                f"{process.stderr.read()[-2000:] if process.stderr else ''}")


@pytest.fixture
def read_line():
    """``read_line(process, timeout_s, prefix="")``: see :func:`read_line_within`."""
    return read_line_within


# Small random-weights checkpoints (legitimate for pipeline tests: the engine and its sinks
# must reproduce the model's own outputs exactly, whatever the weights).
TINY_DT_US = 10_000
TINY_CLASS_NAMES = tuple(f"class {k}" for k in range(11))
# Random weights this much larger than PyTorch's default init make spikes reach the readout,
# so that scores differ from bin to bin and comparisons cannot pass on all-zero outputs.
TINY_WEIGHT_GAIN = 10.0


def tiny_checkpoint(path: Path, *, attention: str = "causal", T: int = 8, seed: int = 0,
                    sensor=(128, 128), dt_us: int = TINY_DT_US,
                    class_names: tuple[str, ...] = TINY_CLASS_NAMES) -> Path:
    import torch

    from live_snn.binning import BinningConfig
    from live_snn.model import ModelConfig, build_model, save_checkpoint

    torch.manual_seed(seed)
    config = ModelConfig(preset="lite", input_size=(32, 32), channels=16, hidden=64,
                         num_blocks=3, attention=attention, T=T)
    model = build_model(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() > 1:
                parameter.mul_(TINY_WEIGHT_GAIN)
    binning = BinningConfig(dt_us=dt_us, sensor=sensor, model=(32, 32))
    return save_checkpoint(path, model, binning=binning, class_names=class_names)


@pytest.fixture(scope="session")
def make_checkpoint():
    """``make_checkpoint(path, attention=, T=, seed=, sensor=, dt_us=, class_names=)`` -> a
    tiny checkpoint (32x32 input, 16 channels, 3 blocks; 10 ms bins, 11 classes unless
    given)."""
    return tiny_checkpoint


@pytest.fixture(scope="session")
def causal_ckpt(tmp_path_factory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "causal.safetensors")


def record_taught_session(folder: Path, *, classes=("right hand wave", "swipe"),
                          performs=None, takes: int = 2, spec: str = "sim:seed=11,speed=max",
                          take_s: float = 1.0) -> Path:
    """A small taught session: the simulated person performs the prompts ("swipe" as an arm
    roll unless ``performs`` says otherwise), as fast as it renders."""
    from live_snn.sources.performer import open_teaching_source
    from live_snn.teach.plan import TeachPlan
    from live_snn.teach.recorder import TeachRecorder

    plan = TeachPlan(tuple(classes), takes_per_class=takes, take_s=take_s, rest_s=0.3,
                     countdown_s=0.3, order="fixed")
    with open_teaching_source(spec, performs or {"swipe": "arm-roll"}) as source:
        recorder = TeachRecorder(plan, folder, resolution=source.resolution,
                                 source_description=source.description, performer=source,
                                 live=False)
        for batch in source:
            recorder.feed(batch)
            if recorder.ended:
                break
        recorder.finish()
    return folder


@pytest.fixture(scope="session")
def taught_folder(tmp_path_factory) -> Path:
    """Two classes ("right hand wave", "swipe") x 2 one-second takes, recorded once."""
    return record_taught_session(tmp_path_factory.mktemp("taught") / "session")


@pytest.fixture
def with_readout(tmp_path):
    """``with_readout(ckpt, **entries)``: a copy of checkpoint ``ckpt`` whose readout has
    ``entries`` in place (a threshold, a smoothing, a calibration record), in ``tmp_path``."""
    from live_snn.model import load_checkpoint, save_checkpoint

    def copy(ckpt: Path, **entries) -> Path:
        loaded = load_checkpoint(ckpt)
        return save_checkpoint(tmp_path / f"readout_{len(list(tmp_path.glob('readout_*')))}"
                               ".safetensors", loaded.model, binning=loaded.binning,
                               class_names=loaded.class_names,
                               readout={**loaded.readout, **entries})

    return copy
