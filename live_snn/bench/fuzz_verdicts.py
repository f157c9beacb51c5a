"""What the commands say about one mutated file, held against each other and against
dv-processing's own decode (run in a child of its own: dv-processing may crash or spin on
a damaged file).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from live_snn.bench.fuzz_report import REPO_ROOT, FuzzReport

# A zygote: imports numpy and dv-processing once, then forks one child per file (a fresh
# process for every decode, as dv-processing may crash or spin, without paying its imports
# each time). Per request (a path on stdin) it answers on stdout: "pid N", then the child's
# "ok COUNT CHECKSUM" (nothing when it died), then "exit STATUS".
REFERENCE_ZYGOTE = r"""
import ctypes, os, signal, sys
import numpy as np, dv_processing as dv
from live_snn.events import EVENT_DTYPE, events_checksum

def decode(path):
    r = dv.io.MonoCameraRecording(path)
    parts = []
    while (s := r.getNextEventBatch()) is not None:
        if not s.isEmpty():
            d = s.numpy(); e = np.empty(len(d), EVENT_DTYPE)
            e["t"], e["x"], e["y"], e["p"] = d["timestamp"], d["x"], d["y"], d["polarity"]
            parts.append(e)
    ev = np.concatenate(parts) if parts else np.empty(0, EVENT_DTYPE)
    return f"ok {len(ev)} {events_checksum(ev)}"

out = sys.stdout
for line in sys.stdin:
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(go_w)
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the zygote
        os.read(go_r, 1)  # the "pid" line must come first: wait until it is written
        try:
            answer = decode(line.rstrip("\n"))
        except BaseException:
            os._exit(1)
        out.write(answer + "\n"); out.flush()
        os._exit(0)
    os.close(go_r)
    out.write(f"pid {pid}\n"); out.flush()
    os.write(go_w, b"1"); os.close(go_w)
    _, status = os.waitpid(pid, 0)
    out.write(f"exit {status}\n"); out.flush()
"""
# dv-processing decodes any of the base recordings in about 0.01 s of CPU time; it spins
# forever (100 % CPU) on some damaged compressed packets. CPU time, not wall time, so that a
# loaded machine does not turn a slow decode into "could not decode".
REFERENCE_CPU_S = 0.5
REFERENCE_WALL_S = 60.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ReferenceDecoder:
    """dv-processing's own sequential decode of a file (count, checksum), or None where it
    crashes, spins or refuses; each decode in a fresh child forked from a zygote."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self._buffer = b""
        self._start()

    def _start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", REFERENCE_ZYGOTE], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO_ROOT,
            env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
        self._buffer = b""

    def decode(self, path: Path) -> tuple[int, str] | None:
        if self.process.poll() is not None:  # not expected: the zygote decodes nothing
            self.close()
            self._start()
        self.process.stdin.write(f"{path}\n".encode())
        self.process.stdin.flush()
        first = self._line()
        if not first.startswith("pid "):
            raise RuntimeError(f"the reference decoder's zygote said {first!r}, not a pid")
        pid = int(first.split()[1])
        deadline, answer = time.monotonic() + REFERENCE_WALL_S, None
        while not (line := self._line(pid, deadline)).startswith("exit "):
            if line.startswith("ok "):
                answer = line
        if answer is None:
            return None
        _, count, checksum = answer.split()
        return int(count), checksum

    def _line(self, pid: int | None = None, deadline: float = 0.0) -> str:
        """The zygote's next line; while ``pid`` decodes, it is killed when it spins."""
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise RuntimeError("the reference decoder's zygote died")
                self._buffer += chunk
            elif pid is not None and (_cpu_seconds(pid) > REFERENCE_CPU_S
                                      or time.monotonic() > deadline):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def close(self) -> None:
        if self.process is not None:
            end_child(self.process)


def end_child(process: subprocess.Popen) -> None:
    """Let a child that reads jobs from stdin finish (close its stdin, wait 10 s), then
    kill it if it has not."""
    if process.poll() is None:
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def damage_key(text: str, path: Path) -> str:
    """What the output says is wrong with ``path``: the text after its name up to '; the'."""
    at = text.find(f"{path}: ")
    if at < 0:
        return "unexplained: " + text.strip().splitlines()[-1][:200] if text.strip() else "silent"
    rest = text[at + len(str(path)) + 2:].splitlines()[0]
    return rest.split("; the ")[0].split("; live_snn reads")[0].strip()


def file_verdict(command: str, answer: dict, path: Path, summary: Path) -> tuple[str, str | None]:
    """("good:N" | damage text | "n/a", checksum of what was written, for record)."""
    rc, out, err = answer["rc"], answer["out"], answer["err"]
    if command == "info":
        if rc == 0:
            return f"good:{json.loads(out.splitlines()[0])['events']}", None
        return damage_key(err, path), None
    if command == "run":
        if rc == 0:
            return f"good:{json.loads(summary.read_text())['events_in']}", None
        if "--allow-remap" in err or "cannot be mapped" in err:
            return "n/a", None
        return damage_key(err, path), None
    verified = re.search(r"verified: read back (\d+) events, checksum (\w+)", out)
    if rc == 0 and verified:
        return f"good:{verified.group(1)}", verified.group(2)
    return damage_key(out + err, path), verified.group(2) if verified else None



def check_verdicts(label: str, verdicts: dict[str, str], written: str | None,
                   reference: tuple[int, str] | None, report: FuzzReport) -> None:
    """Record in ``report`` what the commands' verdicts on one damaged file get wrong:
    commands that disagree, or events said good that differ from dv-processing's."""
    seen = {v for v in verdicts.values() if v != "n/a"}
    if len(seen) > 1:
        report.disagreements.append(f"{label}: " + "; ".join(f"{c} says {v!r}"
                                                             for c, v in verdicts.items()))
        return
    verdict = next(iter(seen), "n/a")
    if reference is None:
        report.dv_could_not_decode += 1
    if not verdict.startswith("good:"):
        report.damaged_files += 1
        return
    report.good_files += 1
    count = int(verdict.split(":")[1])
    if reference is None:
        report.differs_from_dv.append(f"{label}: called good ({count} events) but "
                                      "dv-processing cannot decode it")
    elif reference[0] != count or (written is not None and written != reference[1]):
        report.differs_from_dv.append(f"{label}: called good with {count} events, "
                                      f"dv-processing decodes {reference[0]}")
