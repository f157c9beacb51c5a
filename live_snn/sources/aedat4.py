"""AEDAT4 recordings (DV software, dv-processing ``MonoCameraWriter``), decoded by
dv-processing's ``MonoCameraRecording`` in a watched child process.

Why a child process: dv-processing 2.0.4 loops forever at 100 % CPU, holding the GIL, on a
recording with a few bytes flipped inside a compressed packet, and aborts on some damaged
headers. A thread cannot interrupt either. The child (``_aedat4_worker``) does the decoding;
this side asks for one time window at a time and kills the child when it burns more than
``decode_timeout_s`` of CPU time on one answer, then raises :class:`CorruptFileError` with
the number of events delivered before the damage. The checks that need no decompression
(version line, header, data-table framing) run here first, with byte-precise messages.
"""

from __future__ import annotations

import json
import os
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from live_snn.errors import CorruptFileError, SourceError
from live_snn.events import EVENT_DTYPE, EventBatch, Resolution
from live_snn.labels import labels_path_for, read_labels_csv
from live_snn.sources._aedat4_worker import KIND_ERROR, KIND_EVENTS, KIND_META
from live_snn.sources.aedat4_format import Aedat4Header, read_aedat4_header
from live_snn.sources.base import SeekableSource

# Time windows adapt so that one answer holds about this many events.
TARGET_BATCH_EVENTS = 50_000
MIN_WINDOW_US, MAX_WINDOW_US, FIRST_WINDOW_US = 1_000, 1_000_000, 20_000
# A wall-clock ceiling for an answer even while the child sleeps (e.g. a hung disk).
WALL_TIMEOUT_FACTOR = 15.0
# Importing numpy and dv-processing in the child costs CPU before the first answer.
STARTUP_CPU_ALLOWANCE_S = 2.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class Aedat4Source(SeekableSource):
    """Events of an AEDAT4 file; frames, IMU and triggers in the file are ignored.

    A DVS128-Gesture-style ``NAME_labels.csv`` beside ``NAME.aedat4`` (what ``live-snn
    simulate`` writes, and the bundled demo recordings carry) becomes ``labels``.

    ``camera_name``, ``streams`` (``{"events", "frames", "imu", "triggers"} -> bool``) and
    ``stream_names`` describe the file. Iteration continues from the current position;
    ``seek`` jumps with dv-processing's indexed time-range reads.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        start_us: int | None = None,
        decode_timeout_s: float = 2.0,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"no such AEDAT4 file: {self.path}")
        self.header: Aedat4Header = read_aedat4_header(self.path)
        self.decode_timeout_s = float(decode_timeout_s)
        self.events_read = 0
        self._lock = threading.Lock()
        self._closed = False
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives until close()
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "live_snn.sources._aedat4_worker",
                str(self.path),
                str(os.getpid()),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=_child_env(),
        )
        try:
            kind, payload = self._receive(
                "reading the file's header and packet index",
                cpu_budget_s=self.decode_timeout_s + STARTUP_CPU_ALLOWANCE_S,
            )
        except BaseException:
            self.close()
            raise
        meta = json.loads(payload)
        self.camera_name: str = meta["camera"]
        self.resolution = Resolution.of(meta["resolution"])
        self.streams: dict[str, bool] = meta["streams"]
        self.stream_names: list[str] = meta["stream_names"]
        self.start_us = int(meta["start_us"]) if meta["start_us"] is not None else 0
        self.end_us = int(meta["end_us"]) if meta["end_us"] is not None else -1
        labels_file = labels_path_for(self.path)
        try:
            self.labels = read_labels_csv(labels_file) if labels_file.is_file() else None
        except BaseException:
            self.close()
            raise
        self.description = (f"{self.path.name} ({self.camera_name}, {self.resolution}"
                            + (", labelled)" if self.labels is not None else ")"))
        self._cursor = self.start_us
        self._window_us = FIRST_WINDOW_US
        if start_us is not None:
            self.seek(start_us)

    def seek(self, t_us: int) -> None:
        self._cursor = max(int(t_us), self.start_us)

    def __iter__(self) -> Iterator[EventBatch]:
        while True:
            batch = self.read_next()
            if batch is None:
                return
            yield batch

    def read_next(self) -> EventBatch | None:
        """The next non-empty batch from the current position, or None at the end."""
        while not self._closed and self._cursor <= self.end_us:
            t0 = self._cursor
            t1 = min(t0 + self._window_us, self.end_us + 1)
            events = self._request_range(t0, t1)
            self._cursor = t1
            self._adapt_window(len(events))
            if len(events):
                self.events_read += len(events)
                return EventBatch(events, self.resolution)
        return None

    def _adapt_window(self, n_events: int) -> None:
        scale = TARGET_BATCH_EVENTS / max(n_events, 1)
        window = int(self._window_us * min(max(scale, 0.25), 4.0))
        self._window_us = min(max(window, MIN_WINDOW_US), MAX_WINDOW_US)

    def _request_range(self, t0: int, t1: int) -> np.ndarray:
        with self._lock:
            if self._closed:
                return np.empty(0, dtype=EVENT_DTYPE)
            try:
                self._process.stdin.write(f"R {t0} {t1}\n".encode())
                self._process.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass  # the child died; _receive reports how
            try:
                kind, payload = self._receive(
                    f"decoding the events from t={t0} us", cpu_budget_s=self.decode_timeout_s
                )
            except SourceError:
                if self._closed:  # closed from another thread while waiting: a clean end
                    self._close_pipes()
                    return np.empty(0, dtype=EVENT_DTYPE)
                raise
        if kind != KIND_EVENTS:
            raise self._corrupt(f"unexpected answer {kind!r} from the decoder at t={t0} us")
        return np.frombuffer(payload, dtype=EVENT_DTYPE).copy()

    def _receive(self, doing: str, *, cpu_budget_s: float) -> tuple[bytes, bytes]:
        """One framed message from the child, killing it if it spins or dies."""
        header = self._read_exact(9, doing, cpu_budget_s)
        kind = header[:1]
        (length,) = struct.unpack("<q", header[1:])
        payload = self._read_exact(length, doing, cpu_budget_s) if length else b""
        if kind == KIND_ERROR:
            message = json.loads(payload)["message"]
            self._stop_process()
            raise self._corrupt(f"dv-processing cannot read it while {doing}: {_clean(message)}")
        if kind not in (KIND_META, KIND_EVENTS):
            raise self._corrupt(f"decoder sent an unknown message {kind!r}")
        return kind, payload

    def _read_exact(self, n: int, doing: str, cpu_budget_s: float) -> bytes:
        fd = self._process.stdout.fileno()
        chunks: list[bytes] = []
        remaining = n
        cpu_start = _process_cpu_seconds(self._process.pid)
        wall_deadline = time.monotonic() + cpu_budget_s * WALL_TIMEOUT_FACTOR
        while remaining:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                chunk = os.read(fd, min(remaining, 1 << 20))
                if not chunk:
                    if self._closed:
                        raise SourceError(f"{self.path}: closed while {doing}")
                    raise self._child_died(doing)
                chunks.append(chunk)
                remaining -= len(chunk)
                continue
            if self._closed:
                raise SourceError(f"{self.path}: closed while {doing}")
            cpu_used = _process_cpu_seconds(self._process.pid) - cpu_start
            if cpu_used > cpu_budget_s or time.monotonic() > wall_deadline:
                self._stop_process()
                raise self._corrupt(
                    f"damaged: dv-processing did not finish {doing} within "
                    f"{cpu_budget_s:.1f} s of CPU time (it loops on a corrupt compressed "
                    f"packet) and was stopped"
                )
        return b"".join(chunks)

    def _child_died(self, doing: str) -> CorruptFileError:
        code = self._process.wait()
        self._stderr.seek(0)
        lines = [ln for ln in self._stderr.read().decode(errors="replace").splitlines() if ln]
        last = f": {_clean(lines[-1])}" if lines and code > 0 else ""
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        return self._corrupt(f"the dv-processing decoder ended ({how}) while {doing}{last}")

    def _corrupt(self, what: str) -> CorruptFileError:
        return CorruptFileError(
            f"{self.path}: {what}; {self.events_read} events before that were read",
            path=str(self.path),
            events_read=self.events_read,
        )

    def _stop_process(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()

    def close(self) -> None:
        """Stop the decoder. Safe from another thread while a batch is being read: that
        read then ends the iteration quietly."""
        if self._closed:
            return
        self._closed = True
        process = getattr(self, "_process", None)
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait()
        if self._lock.acquire(blocking=False):  # else the reading thread closes them
            try:
                self._close_pipes()
            finally:
                self._lock.release()

    def _close_pipes(self) -> None:
        process = getattr(self, "_process", None)
        if process is not None:
            for pipe in (process.stdin, process.stdout):
                if pipe is not None and not pipe.closed:
                    pipe.close()
        if not self._stderr.closed:
            self._stderr.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self.close()


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc); wall time elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return time.monotonic()


def _child_env() -> dict[str, str]:
    """Make sure the child imports this same live_snn, installed or not."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


def _clean(message: str) -> str:
    """First line of a dv-processing message, without its C++ source location."""
    line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    if line.startswith("AEDAT4.0: "):
        line = line[len("AEDAT4.0: ") :]
    return line[:300].rstrip(".")
