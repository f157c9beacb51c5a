"""The fuzz harness's command runs: each in a :mod:`live_snn.cli.fuzz_worker` process that
imports torch once; a worker that dies is a native crash, a job past ``timeout_s`` a hang
(the worker is replaced either way).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from live_snn.bench.fuzz_report import REPO_ROOT, FuzzConfig, FuzzReport
from live_snn.bench.fuzz_verdicts import ReferenceDecoder, end_child


class Worker:
    """A ``live_snn.cli.fuzz_worker`` process; ``run(argv)`` -> its answer, or
    ``{"problem": "hang" | "native crash", ...}``."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "live_snn.cli.fuzz_worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO_ROOT,
            env={**os.environ, "OMP_NUM_THREADS": "1"})

    def run(self, argv: list[str], timeout_s: float) -> dict:
        try:
            self.process.stdin.write(json.dumps({"argv": argv}) + "\n")
            self.process.stdin.flush()
        except OSError:
            pass
        ready, _, _ = select.select([self.process.stdout], [], [], timeout_s)
        if not ready:
            self.process.kill()
            self.process.wait()
            return {"problem": "hang"}
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait()
            return {"problem": "native crash", "code": code}
        return json.loads(line)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        end_child(self.process)



@dataclass(frozen=True)
class Job:
    label: str
    argv: list[str]


def problems_of(job: Job, answer: dict, report: FuzzReport) -> bool:
    """Record a hang, crash or traceback; True when the job ended cleanly."""
    if answer.get("problem") == "hang":
        report.hangs.append(job.label)
        return False
    if answer.get("problem") == "native crash":
        report.native_crashes.append(f"{job.label} (exit {answer.get('code')})")
        return False
    if answer.get("traceback") or "Traceback" in answer.get("err", ""):
        report.tracebacks.append(f"{job.label}: "
                                 f"{(answer.get('traceback') or answer['err']).strip().splitlines()[-1]}")
        return False
    return True


class Runner:
    """One worker at a time for one thread, and its reference decoder (made when first
    asked for); the report is shared under ``lock``."""

    def __init__(self, config: FuzzConfig, report: FuzzReport, lock: threading.Lock):
        self.config = config
        self.report = report
        self.lock = lock
        self.worker = Worker()
        self._reference: ReferenceDecoder | None = None

    def reference_decode(self, path: Path) -> tuple[int, str] | None:
        """dv-processing's own decode of ``path`` (see :class:`ReferenceDecoder`)."""
        if self._reference is None:
            self._reference = ReferenceDecoder()
        return self._reference.decode(path)

    def run(self, job: Job) -> dict:
        if not self.worker.alive:
            self.worker = Worker()
        answer = self.worker.run(job.argv, self.config.timeout_s)
        with self.lock:
            self.report.jobs += 1
            if "problem" not in answer:
                return answer
            self.worker.close()
            self.worker = Worker()
        return answer

    def close(self) -> None:
        self.worker.close()
        if self._reference is not None:
            self._reference.close()
