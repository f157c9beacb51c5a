"""``live-snn bench fuzz``: seeded mutations of real recordings through ``info``, ``run`` and
``record``, and of a real DV network stream through ``run`` and ``record``; counts hangs,
native crashes, tracebacks, disagreements between commands on one file, and files called good
whose events differ from dv-processing's own decode. Results in docs/reliability.md.

Every command runs in a worker process (:mod:`live_snn.cli.fuzz_worker`) that imports torch
once; a worker that dies is a native crash, a job past ``timeout_s`` a hang (the worker is
replaced either way). dv-processing's reference decode of each mutated AEDAT4 file runs in a
child of its own, since dv-processing may crash or spin on it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RECORDINGS = Path(os.environ.get("LIVE_SNN_SHARED_DATA", REPO_ROOT.parent / "shared" /
                                         "data")) / "recordings"
BASES = ("dvsgesture_sample_01.aedat4", "dvsgesture_sample_02.aedat4", "dvs128_arms_b.aedat4",
         "dvxplorer_person.aedat4", "davis346_mixed_streams.aedat4")
UNCOMPRESSED_BASES = ("dvsgesture_sample_03.aedat4", "dvs128_arms_b.aedat4")
FILE_COMMANDS = ("info", "run", "record")
STREAM_SECONDS = 4  # a live source runs until stopped: each stream command is bounded so
DOCS = REPO_ROOT / "docs" / "reliability.md"
MARKERS = ("<!-- fuzz:results -->", "<!-- /fuzz:results -->")


@dataclass(frozen=True)
class FuzzConfig:
    files: int = 200
    streams: int = 50
    seed: int = 0
    timeout_s: float = 60.0
    workers: int = 2                    # worker processes for the files
    recordings: Path = DEFAULT_RECORDINGS
    work: Path | None = None            # where mutated files go (default: a temporary folder)


@dataclass
class FuzzReport:
    files: int = 0
    streams: int = 0
    jobs: int = 0
    good_files: int = 0
    damaged_files: int = 0
    hangs: list[str] = field(default_factory=list)
    native_crashes: list[str] = field(default_factory=list)
    tracebacks: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    differs_from_dv: list[str] = field(default_factory=list)
    dv_could_not_decode: int = 0
    wall_s: float = 0.0

    @property
    def clean(self) -> bool:
        return not (self.hangs or self.native_crashes or self.tracebacks or self.disagreements
                    or self.differs_from_dv)

    def summary(self) -> str:
        return (f"{self.files} mutated files x {len(FILE_COMMANDS)} commands and {self.streams} "
                f"mutated streams x 2 commands ({self.jobs} runs) in {self.wall_s:.0f} s: "
                f"{len(self.hangs)} hangs, {len(self.native_crashes)} native crashes, "
                f"{len(self.tracebacks)} tracebacks, {len(self.disagreements)} disagreements "
                f"between commands, {len(self.differs_from_dv)} files called good whose events "
                f"differ from dv-processing's decode ({self.good_files} files good, "
                f"{self.damaged_files} named damaged; dv-processing itself could not decode "
                f"{self.dv_could_not_decode})")


# ---- mutations -----------------------------------------------------------------------------
def mutate(data: bytes, rng: np.random.Generator, *, protect: int, packets: list[int],
           event_bytes: list[int]) -> tuple[bytes, str]:
    """One seeded mutation of ``data`` (the first ``protect`` bytes kept, except by the
    header mutation); ``packets``: packet header offsets, ``event_bytes``: offsets of
    uncompressed event timestamps (empty for a compressed file)."""
    kinds = ["bits", "overwrite", "truncate", "zeros", "duplicate", "delete", "header",
             "packet header"] + (["timestamp"] * 3 if event_bytes else [])
    kind = kinds[int(rng.integers(len(kinds)))]
    out = bytearray(data)
    n = len(out)
    at = int(rng.integers(protect, n))
    if kind == "bits":
        count = int(rng.integers(1, 17))
        for pos in rng.integers(protect, n, count):
            out[int(pos)] ^= 1 << int(rng.integers(8))
        return bytes(out), f"{count} bits flipped"
    if kind == "overwrite":
        length = int(rng.integers(1, 65))
        out[at:at + length] = rng.integers(0, 256, len(out[at:at + length]), np.uint8).tobytes()
        return bytes(out), f"{length} random bytes at {at}"
    if kind == "truncate":
        return bytes(out[:at]), f"cut at byte {at}"
    if kind == "zeros":
        length = int(rng.integers(1, 4096))
        out[at:at + length] = bytes(len(out[at:at + length]))
        return bytes(out), f"{length} bytes zeroed at {at}"
    if kind == "duplicate":
        length = int(rng.integers(1, 4096))
        return bytes(out[:at] + out[at:at + length] + out[at:]), f"{length} bytes repeated at {at}"
    if kind == "delete":
        length = int(rng.integers(1, 4096))
        return bytes(out[:at] + out[at + length:]), f"{length} bytes deleted at {at}"
    if kind == "header":
        pos = int(rng.integers(14, protect))
        out[pos] = int(rng.integers(256))
        return bytes(out), f"header byte {pos} set to {out[pos]}"
    if kind == "packet header" and packets:
        pos = packets[int(rng.integers(len(packets)))] + int(rng.integers(8))
        out[pos] = int(rng.integers(256))
        return bytes(out), f"packet header byte {pos} set to {out[pos]}"
    if kind == "timestamp" and event_bytes:
        pos = event_bytes[int(rng.integers(len(event_bytes)))] + int(rng.integers(8))
        out[pos] ^= 1 << int(rng.integers(8))
        return bytes(out), f"a bit of the timestamp at byte {pos} flipped"
    return bytes(out[:at]), f"cut at byte {at}"


def packet_offsets(path: Path) -> tuple[int, list[int], list[int]]:
    """Header end, packet header offsets and (uncompressed files) event timestamp offsets."""
    from live_snn.sources.aedat4_format import packet_layout, read_aedat4_header

    header = read_aedat4_header(path)
    packets = list(packet_layout(header).event_packet_offsets)
    stamps: list[int] = []
    if header.compression == "none":
        data = path.read_bytes()
        for offset in packets:
            size = int.from_bytes(data[offset + 4:offset + 8], "little")
            start = offset + 8 + 36  # past the packet header and the flatbuffer's head
            stamps.extend(range(start, min(offset + 8 + size - 16, start + 16 * 64), 16 * 7))
    return header.first_packet_position, packets, stamps


# ---- running commands ----------------------------------------------------------------------
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
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


REFERENCE_CODE = """
import sys, numpy as np, dv_processing as dv
from live_snn.events import EVENT_DTYPE, events_checksum
r = dv.io.MonoCameraRecording(sys.argv[1])
parts = []
while (s := r.getNextEventBatch()) is not None:
    if not s.isEmpty():
        d = s.numpy(); e = np.empty(len(d), EVENT_DTYPE)
        e["t"], e["x"], e["y"], e["p"] = d["timestamp"], d["x"], d["y"], d["polarity"]
        parts.append(e)
ev = np.concatenate(parts) if parts else np.empty(0, EVENT_DTYPE)
print(len(ev), events_checksum(ev))
"""


def reference_decode(path: Path, timeout_s: float = 4.0) -> tuple[int, str] | None:
    """dv-processing's own sequential decode (count, checksum), or None where it crashes,
    spins or refuses."""
    try:
        done = subprocess.run([sys.executable, "-c", REFERENCE_CODE, str(path)], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return None
    count, checksum = done.stdout.split()
    return int(count), checksum


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
    """One worker at a time for one thread; the report is shared under ``lock``."""

    def __init__(self, config: FuzzConfig, report: FuzzReport, lock: threading.Lock):
        self.config = config
        self.report = report
        self.lock = lock
        self.worker = Worker()

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


# ---- files ---------------------------------------------------------------------------------
def make_bases(config: FuzzConfig, work: Path) -> list[Path]:
    from live_snn.sinks.aedat4_writer import Aedat4Writer
    from live_snn.sources.aedat4 import Aedat4Source

    bases = [config.recordings / name for name in BASES if (config.recordings / name).is_file()]
    for name in UNCOMPRESSED_BASES:
        source_path = config.recordings / name
        if not source_path.is_file():
            continue
        out = work / f"uncompressed_{name}"
        with Aedat4Source(source_path) as source, \
                Aedat4Writer(out, source.resolution, source.camera_name) as writer:
            for batch in source:
                writer.write(batch)
        bases.append(out)
    if not bases:
        raise FileNotFoundError(f"no recordings to mutate in {config.recordings}")
    return bases


def tiny_model(path: Path) -> Path:
    """A small random-weights checkpoint: the harness tests the file handling, not accuracy."""
    import torch

    from live_snn.binning import BinningConfig
    from live_snn.model import ModelConfig, build_model, save_checkpoint

    torch.manual_seed(0)
    model = build_model(ModelConfig(preset="lite", input_size=(32, 32), channels=16, hidden=64,
                                    num_blocks=3, T=8)).eval()
    binning = BinningConfig(dt_us=20_000, sensor=(128, 128), model=(32, 32))
    return save_checkpoint(path, model, binning=binning,
                           class_names=[f"class {k}" for k in range(11)])


def fuzz_files(config: FuzzConfig, runners: list[Runner], work: Path, model: Path) -> None:
    """Mutations are drawn in order from one seeded generator, then shared out among the
    runners (the results do not depend on which runner takes which file)."""
    rng = np.random.default_rng(config.seed)
    bases = make_bases(config, work)
    layouts = {base: packet_offsets(base) for base in bases}
    cases = []
    for index in range(config.files):
        base = bases[index % len(bases)]
        protect, packets, stamps = layouts[base]
        data, what = mutate(base.read_bytes(), rng, protect=protect, packets=packets,
                            event_bytes=stamps)
        cases.append((index, base, data, what))
    lock = threading.Lock()

    def take(runner: Runner) -> None:
        while True:
            with lock:
                if not cases:
                    return
                case = cases.pop(0)
            fuzz_file(runner, work, model, *case)

    threads = [threading.Thread(target=take, args=(runner,)) for runner in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def fuzz_file(runner: Runner, work: Path, model: Path, index: int, base: Path, data: bytes,
              what: str) -> None:
    report = runner.report
    path = work / f"f{index:04d}.aedat4"
    path.write_bytes(data)
    label = f"file {index} ({base.name}: {what})"
    summary, copy = work / f"f{index:04d}.summary.json", work / f"f{index:04d}.copy.aedat4"
    jobs = {
        "info": Job(f"info {label}", ["info", "--json", str(path)]),
        "run": Job(f"run {label}", ["run", str(path), "--model", str(model), "--device",
                                    "cpu", "--speed", "max", "--quiet", "--allow-remap",
                                    "--summary-json", str(summary)]),
        "record": Job(f"record {label}", ["record", str(path), str(copy)]),
    }
    verdicts: dict[str, str] = {}
    written = None
    for command, job in jobs.items():
        answer = runner.run(job)
        if problems_of(job, answer, report):
            verdicts[command], checksum = file_verdict(command, answer, path, summary)
            written = checksum if command == "record" else written
    reference = reference_decode(path)
    with runner.lock:
        report.files += 1
        check_verdicts(label, verdicts, written, reference, report)
        print(f"{label}: {' | '.join(f'{c}: {v}' for c, v in verdicts.items())}", flush=True)
    for leftover in work.glob(f"f{index:04d}*"):
        leftover.unlink(missing_ok=True)


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


# ---- network streams -----------------------------------------------------------------------
class ByteServer:
    """Sends ``payload`` to every client on 127.0.0.1, then closes (after ``hold_s``)."""

    def __init__(self, payload: bytes, hold_s: float = 0.0):
        self.payload, self.hold_s = payload, hold_s
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.1)
        self.address = f"tcp://127.0.0.1:{self.listener.getsockname()[1]}"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._send, args=(client,), daemon=True).start()

    def _send(self, client: socket.socket) -> None:
        try:
            client.sendall(self.payload)
            self.stop.wait(self.hold_s)
        except OSError:
            pass
        finally:
            client.close()

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        self.thread.join(2)


def stream_bytes(config: FuzzConfig) -> tuple[bytes, int, list[int]]:
    """A real recording as a DV network stream: header, then 10k-event packets."""
    import struct

    from live_snn.events import EventBatch
    from live_snn.sinks.aedat4_writer import _event_packet, _io_header, _stream_xml
    from live_snn.sources.aedat4 import Aedat4Source

    with Aedat4Source(config.recordings / BASES[0]) as source:
        events = EventBatch.concatenate(list(source))
        header = _io_header(-1, _stream_xml(source.resolution, source.camera_name))
    data, packets = bytearray(header), []
    for lo in range(0, len(events), 10_000):
        payload = _event_packet(events.events[lo:lo + 10_000])
        packets.append(len(data))
        data += struct.pack("<ii", 0, len(payload)) + payload
    return bytes(data), len(header), packets


def fuzz_streams(config: FuzzConfig, runner: Runner, work: Path, model: Path) -> None:
    rng = np.random.default_rng(config.seed + 1)
    clean, header_end, packets = stream_bytes(config)
    for index in range(config.streams):
        if index % 10 == 9:
            data, what, hold = clean[:header_end], "a header, then silence", 3.0
        elif index % 10 == 8:
            data = rng.integers(0, 256, 4096, np.uint8).tobytes()
            what, hold = "random bytes (not DV)", 0.0
        else:
            data, what = mutate(clean, rng, protect=header_end, packets=packets, event_bytes=[])
            hold = 0.0
        server = ByteServer(data, hold)
        label = f"stream {index} ({what})"
        try:
            for command, argv in (
                ("run", ["run", server.address, "--model", str(model), "--device", "cpu",
                         "--quiet", "--allow-remap", "--max-reconnects", "1", "--stall-timeout",
                         "1", "--duration", str(STREAM_SECONDS)]),
                ("record", ["record", server.address, str(work / f"s{index:03d}.aedat4"),
                            "--duration", str(STREAM_SECONDS)]),
            ):
                job = Job(f"{command} {label}", argv)
                answer = runner.run(job)
                if problems_of(job, answer, runner.report) and answer["rc"] not in (0, 1, 2):
                    runner.report.tracebacks.append(f"{job.label}: exit code {answer['rc']}")
        finally:
            server.close()
        runner.report.streams += 1
        print(f"{label}: done", flush=True)
        for leftover in work.glob(f"s{index:03d}*"):
            leftover.unlink()


def run_fuzz(config: FuzzConfig) -> FuzzReport:
    report = FuzzReport()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="live_snn_fuzz_") as scratch:
        work = config.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        model = tiny_model(work / "tiny.safetensors")
        lock = threading.Lock()
        runners = [Runner(config, report, lock) for _ in range(config.workers)]
        try:
            fuzz_files(config, runners, work, model)
            fuzz_streams(config, runners[0], work, model)
        finally:
            for runner in runners:
                runner.close()
    report.wall_s = time.monotonic() - started
    return report


# ---- command line --------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--files", type=int, default=200, help="mutated recordings (default 200)")
    parser.add_argument("--streams", type=int, default=50, help="mutated streams (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a command "
                        "counts as hung (default 60)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--recordings", type=Path, default=DEFAULT_RECORDINGS)
    parser.add_argument("--write-docs", action="store_true",
                        help="write the results into docs/reliability.md")


def run(args: argparse.Namespace) -> int:
    report = run_fuzz(FuzzConfig(files=args.files, streams=args.streams, seed=args.seed,
                                 timeout_s=args.timeout, workers=args.workers,
                                 recordings=args.recordings))
    print(report.summary())
    for name in ("hangs", "native_crashes", "tracebacks", "disagreements", "differs_from_dv"):
        for line in getattr(report, name):
            print(f"{name}: {line}")
    if args.write_docs:
        write_docs(report, args)
    return 0 if report.clean else 1


def write_docs(report: FuzzReport, args: argparse.Namespace) -> None:
    import platform

    lines = [MARKERS[0], "", f"`live-snn bench fuzz --files {args.files} --streams "
             f"{args.streams} --seed {args.seed}` on {platform.machine()} with "
             f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}:", "",
             "| measure | count |", "|---|---|"]
    rows = [("mutated recordings (info, run, record each)", report.files),
            ("mutated network streams (run, record each)", report.streams),
            ("command runs", report.jobs), ("wall time (s)", f"{report.wall_s:.0f}"),
            ("files every command called good", report.good_files),
            ("files every command named damaged (the same damage)", report.damaged_files),
            ("files dv-processing itself could not decode", report.dv_could_not_decode),
            ("hangs", len(report.hangs)), ("native crashes", len(report.native_crashes)),
            ("tracebacks", len(report.tracebacks)),
            ("disagreements between commands", len(report.disagreements)),
            ("files called good whose events differ from dv-processing's decode",
             len(report.differs_from_dv))]
    lines += [f"| {name} | {value} |" for name, value in rows] + ["", MARKERS[1]]
    text = DOCS.read_text()
    start, end = text.index(MARKERS[0]), text.index(MARKERS[1]) + len(MARKERS[1])
    DOCS.write_text(text[:start] + "\n".join(lines) + text[end:])
