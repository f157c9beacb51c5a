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
from pathlib import Path

import numpy as np

from live_snn.errors import CorruptFileError, SourceError
from live_snn.events import EVENT_DTYPE, MAX_SENSOR_SIDE, Resolution
from live_snn.labels import labels_path_for, read_labels_csv
from live_snn.sources._aedat4_worker import (
    KIND_ERROR,
    KIND_EVENTS,
    KIND_META,
    KIND_PROGRESS,
    KIND_VERDICT,
    PROGRESS,
)
from live_snn.sources.aedat4_format import Aedat4Header, packet_layout, read_aedat4_header
from live_snn.sources.checks import MAX_EVENT_GAP_US
from live_snn.sources.verdict import VerdictFileSource

# One answer of the decoder holds about this many events.
TARGET_BATCH_EVENTS = 50_000
# A wall-clock ceiling for an answer even while the child sleeps (e.g. a hung disk).
WALL_TIMEOUT_FACTOR = 15.0
# Importing numpy and dv-processing in the child costs CPU before the first answer.
STARTUP_CPU_ALLOWANCE_S = 2.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class Aedat4Source(VerdictFileSource):
    """Events of an AEDAT4 file; frames, IMU and triggers in the file are ignored.

    The events are dv-processing's own sequential decode of the file, up to the first
    damage: opening the file scans it once (in the child) and settles its verdict
    (``events``, ``damage``), so that every command reading it sees the same events and the
    same fault. Iteration delivers the events before the damage, then raises
    :class:`CorruptFileError` naming the packet (and its byte offset) and what is wrong.

    A DVS128-Gesture-style ``NAME_labels.csv`` beside ``NAME.aedat4`` (what ``live-snn
    simulate`` writes, and the bundled demo recordings carry) becomes ``labels``.

    ``camera_name``, ``streams`` (``{"events", "frames", "imu", "triggers"} -> bool``) and
    ``stream_names`` describe the file. Iteration continues from the current position;
    ``seek`` restarts dv's sequential read and skips to the time asked for.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        start_us: int | None = None,
        decode_timeout_s: float = 2.0,
        max_gap_us: int = MAX_EVENT_GAP_US,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"no such AEDAT4 file: {self.path}")
        self.header: Aedat4Header = read_aedat4_header(self.path)
        self.decode_timeout_s = float(decode_timeout_s)
        self.max_gap_us = int(max_gap_us)
        self.events_read = 0
        self._lock = threading.Lock()
        self._closed = False
        self._process = None
        self._stderr = None
        try:
            meta, verdict = self._open_decoder(limit=-1)
            if verdict["damage"] is not None and verdict["damage"].get("restart"):
                # The decoder crashed or spun inside a packet: a new one stops before it.
                damage = verdict["damage"]
                meta, verdict = self._open_decoder(limit=damage["event"])
                verdict["damage"] = damage
            self._set_meta(meta)
            labels_file = labels_path_for(self.path)
            self.labels = read_labels_csv(labels_file) if labels_file.is_file() else None
        except BaseException:
            self.close()
            raise
        self.events = int(verdict["events"])
        self.damage: str | None = self._damage_text(verdict["damage"])
        if self.damage is None:  # dv reads up to a packet cut short and says nothing
            layout = packet_layout(self.header)
            if layout.problem is not None:
                where = layout.describe_packet(len(layout.event_packet_offsets))
                self.damage = f"damaged at {where}: {layout.problem}"
        self.start_us = int(verdict["first_us"]) if verdict["first_us"] is not None else 0
        self.end_us = int(verdict["last_us"]) if verdict["last_us"] is not None else -1
        self.description = (f"{self.path.name} ({self.camera_name}, {self.resolution}"
                            + (", labelled)" if self.labels is not None else ")"))
        self._seek_to: int | None = None
        self._exhausted = False
        if start_us is not None:
            self.seek(start_us)

    # ---- opening: the child, its metadata and the verdict ------------------------------
    def _open_decoder(self, *, limit: int) -> tuple[dict, dict]:
        """Start a decoder that scans the first ``limit`` events (-1: all); its metadata
        and verdict. A crash or spin during the scan becomes a verdict with ``damage``
        marked ``restart`` (the events before it are good)."""
        self._stop_process()
        if self._stderr is None:
            self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives until close()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "live_snn.sources._aedat4_worker", str(self.path),
             str(os.getpid()), str(limit), str(self.max_gap_us)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=_child_env(),
        )
        try:
            _, payload = self._receive(
                "reading the file's header",
                cpu_budget_s=self.decode_timeout_s + STARTUP_CPU_ALLOWANCE_S,
            )
        except DecoderLost as lost:
            raise lost.error from None
        meta = json.loads(payload)
        packets, events, last = 0, 0, None
        while True:
            try:
                kind, payload = self._receive(f"decoding packet {packets} of the event stream",
                                              cpu_budget_s=self.decode_timeout_s)
            except DecoderLost as lost:
                if self._closed:
                    raise lost.error from None
                damage = {"packet": packets, "event": events, "what": lost.reason,
                          "restart": True}
                return meta, {"events": events, "packets": packets, "first_us": None,
                              "last_us": last, "damage": damage}
            if kind == KIND_VERDICT:
                return meta, json.loads(payload)
            if kind != KIND_PROGRESS:
                raise self._corrupt(f"unexpected answer {kind!r} from the decoder")
            packets, events, last_t = PROGRESS.unpack(payload)
            last = None if last_t < 0 else last_t

    def _set_meta(self, meta: dict) -> None:
        self.camera_name: str = str(meta["camera"])
        width, height = (int(v) for v in meta["resolution"])
        if not (0 < width <= MAX_SENSOR_SIDE and 0 < height <= MAX_SENSOR_SIDE):
            raise self._corrupt(
                f"damaged header: it declares a {width}x{height} event sensor; expected "
                f"1..{MAX_SENSOR_SIDE} pixels a side")
        self.resolution = Resolution(width, height)
        self.streams: dict[str, bool] = meta["streams"]
        self.stream_names: list[str] = meta["stream_names"]

    def _damage_text(self, damage: dict | None) -> str | None:
        if damage is None:
            return None
        layout = packet_layout(self.header)
        where = layout.describe_packet(int(damage["packet"]))
        framing = f" ({layout.problem})" if layout.problem else ""
        return (f"damaged at {where}, event {damage['event']}: {_clean(damage['what'])}"
                f"{framing}")

    # ---- reading ------------------------------------------------------------------------
    def seek(self, t_us: int) -> None:
        self._seek_to = int(t_us)
        self._exhausted = False

    def _next_events(self) -> np.ndarray:
        with self._lock:
            if self._closed:
                return np.empty(0, dtype=EVENT_DTYPE)
            command = f"N {TARGET_BATCH_EVENTS}\n"
            if self._seek_to is not None:
                command = f"S {self._seek_to}\n" + command
                self._seek_to = None
            try:
                self._process.stdin.write(command.encode())
                self._process.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass  # the child died; _receive reports how
            try:
                kind, payload = self._receive(
                    f"decoding the events after event {self.events_read}",
                    cpu_budget_s=self.decode_timeout_s,
                )
            except (SourceError, DecoderLost) as exc:
                if self._closed:  # closed from another thread while waiting: a clean end
                    self._close_pipes()
                    return np.empty(0, dtype=EVENT_DTYPE)
                if isinstance(exc, DecoderLost):
                    raise exc.error from None
                raise
        if kind != KIND_EVENTS:
            raise self._corrupt(f"unexpected answer {kind!r} from the decoder")
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
        if kind not in (KIND_META, KIND_EVENTS, KIND_PROGRESS, KIND_VERDICT):
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
                reason = (f"dv-processing did not finish within {cpu_budget_s:.1f} s of CPU "
                          f"time (it loops on a corrupt compressed packet) and was stopped")
                raise DecoderLost(reason, self._corrupt(f"damaged: {reason} while {doing}"))
        return b"".join(chunks)

    def _child_died(self, doing: str) -> DecoderLost:
        code = self._process.wait()
        self._stderr.seek(0)
        lines = [ln for ln in self._stderr.read().decode(errors="replace").splitlines() if ln]
        last = f": {_clean(lines[-1])}" if lines and code > 0 else ""
        how = _how_it_ended(code)
        reason = f"the dv-processing decoder ended ({how}){last}"
        return DecoderLost(reason, self._corrupt(f"the dv-processing decoder ended ({how}) "
                                                 f"while {doing}{last}"))

    def _corrupt(self, what: str) -> CorruptFileError:
        return CorruptFileError(
            f"{self.path}: {what}; {self.events_read} events before that were read",
            path=str(self.path),
            events_read=self.events_read,
        )

    def _stop_process(self) -> None:
        process = getattr(self, "_process", None)
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()

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
        if self._stderr is not None and not self._stderr.closed:
            self._stderr.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self.close()


class DecoderLost(Exception):
    """The decoder child died or spun (``reason``); ``error`` is what to tell the user when
    it happened outside the scan, where it is not a verdict on a packet."""

    def __init__(self, reason: str, error: CorruptFileError):
        super().__init__(reason)
        self.reason = reason
        self.error = error


def _how_it_ended(code: int) -> str:
    if code < 0:
        import signal

        try:
            return f"signal {-code}, {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


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
