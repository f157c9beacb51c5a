"""The fuzz harness's command runs: a worker that dies mid-command is a native crash, one that
does not answer in time a hang, and either way the next command gets a fresh worker; the
reference decode is dv-processing's own."""

from __future__ import annotations

import os
import signal
import socket
import threading

from live_snn.bench.fuzz_report import FuzzConfig, FuzzReport
from live_snn.bench.fuzz_verdicts import ReferenceDecoder
from live_snn.bench.fuzz_workers import Job, Runner, problems_of


def test_a_dead_worker_is_a_native_crash_and_a_silent_one_a_hang(tmp_path):
    silent = socket.socket()  # listens, never accepts: `record` waits for a header
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
    report = FuzzReport()
    runner = Runner(FuzzConfig(timeout_s=1.0), report, threading.Lock())
    try:
        first = runner.worker.process.pid
        answer = runner.run(Job("hang", ["record", address, str(tmp_path / "a.aedat4")]))
        assert answer == {"problem": "hang"} and not problems_of(Job("hang", []), answer, report)
        second = runner.worker.process.pid
        assert second != first and runner.worker.alive

        runner.config = FuzzConfig(timeout_s=60.0)
        threading.Timer(0.5, os.kill, (second, signal.SIGKILL)).start()
        answer = runner.run(Job("crash", ["record", address, str(tmp_path / "b.aedat4")]))
        assert answer == {"problem": "native crash", "code": -signal.SIGKILL}
        assert runner.worker.process.pid != second and runner.worker.alive

        answer = runner.run(Job("fine", ["info", "--json", str(tmp_path / "missing.aedat4")]))
        assert answer["rc"] == 2 and answer["traceback"] is None
    finally:
        runner.close()
        silent.close()
    assert report.hangs == ["hang"] and report.jobs == 3


def test_the_reference_decode_is_dv_processings_own(recordings_dir, tmp_path):
    from live_snn.events import EventBatch, events_checksum
    from live_snn.sources.aedat4 import Aedat4Source

    path = recordings_dir / "dvs128_arms_b.aedat4"
    with Aedat4Source(path) as source:
        events = EventBatch.concatenate(list(source)).events
    garbage = tmp_path / "garbage.aedat4"
    garbage.write_bytes(b"#!AER-DAT4.0\r\n" + bytes(100))
    decoder = ReferenceDecoder()
    try:
        assert decoder.decode(path) == (len(events), events_checksum(events))
        assert decoder.decode(garbage) is None
        assert decoder.decode(path) == (len(events), events_checksum(events))
    finally:
        decoder.close()
