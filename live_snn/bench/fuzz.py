"""``live-snn bench fuzz``: seeded mutations of real recordings through ``info``, ``run`` and
``record``, and of a real DV network stream through ``run`` and ``record``; counts hangs,
native crashes, tracebacks, disagreements between commands on one file, and files called good
whose events differ from dv-processing's own decode. Results in docs/reliability.md.

Every command runs in a worker process (:mod:`live_snn.cli.fuzz_worker`) that imports torch
once and calls the CLI's ``main()``; a worker that dies is a native crash, a job past
``timeout_s`` a hang (the worker is replaced either way). dv-processing's reference decode of
each mutated AEDAT4 file runs in a child of its own, forked from a process that imported
dv-processing once, since dv-processing may crash or spin on it. The files are shared out
among ``workers`` runners (default: one per core); the streams, which mostly wait on the
network and the clock, run on a runner of their own at the same time.

This module makes the mutated files and runs the whole harness; the parts:
:mod:`~live_snn.bench.fuzz_report` (config, report, the docs table),
:mod:`~live_snn.bench.fuzz_mutations`, :mod:`~live_snn.bench.fuzz_workers` (command runs),
:mod:`~live_snn.bench.fuzz_verdicts` (what the commands say, checked) and
:mod:`~live_snn.bench.fuzz_streams` (the network half).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from live_snn.bench.fuzz_mutations import mutate, packet_offsets
from live_snn.bench.fuzz_report import (
    BASES,
    DEFAULT_RECORDINGS,
    DEFAULT_WORKERS,
    UNCOMPRESSED_BASES,
    FuzzConfig,
    FuzzReport,
    cpu_seconds,
    write_docs,
)
from live_snn.bench.fuzz_streams import fuzz_streams
from live_snn.bench.fuzz_verdicts import check_verdicts, file_verdict
from live_snn.bench.fuzz_workers import Job, Runner, problems_of


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

    threads = [_Background(take, runner) for runner in runners]
    for thread in threads:
        thread.join()  # re-raises what a file runner raised: a run never ends short and clean


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
        with runner.lock:
            clean = problems_of(job, answer, report)
        if clean:
            verdicts[command], checksum = file_verdict(command, answer, path, summary)
            written = checksum if command == "record" else written
    reference = runner.reference_decode(path)
    with runner.lock:
        report.files += 1
        check_verdicts(label, verdicts, written, reference, report)
        print(f"{label}: {' | '.join(f'{c}: {v}' for c, v in verdicts.items())}", flush=True)
    for leftover in work.glob(f"f{index:04d}*"):
        leftover.unlink(missing_ok=True)


def run_fuzz(config: FuzzConfig) -> FuzzReport:
    report = FuzzReport()
    started, cpu_started = time.monotonic(), cpu_seconds()
    with tempfile.TemporaryDirectory(prefix="live_snn_fuzz_") as scratch:
        work = config.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        lock = threading.Lock()  # the workers start (import torch) while the model is made
        runners = [Runner(config, report, lock)
                   for _ in range(config.workers + (1 if config.streams else 0))]
        streams, stop = None, threading.Event()
        try:
            model = tiny_model(work / "tiny.safetensors")
            if config.streams:  # on a runner of their own, beside the files
                streams = _Background(fuzz_streams, config, runners[-1], work, model, stop)
            fuzz_files(config, runners[:config.workers], work, model)
            if streams is not None:
                streams.join()
        finally:
            if streams is not None:  # after an error: let the stream in hand finish
                stop.set()
                threading.Thread.join(streams)
            for runner in runners:
                runner.close()
    report.wall_s = time.monotonic() - started
    report.cpu_s = cpu_seconds() - cpu_started
    if (report.files, report.streams) != (config.files, config.streams):
        raise RuntimeError(f"fuzz ended short: {report.files} of {config.files} files and "
                           f"{report.streams} of {config.streams} streams were run")
    return report


class _Background(threading.Thread):
    """``function(*args)`` in a thread; ``join()`` re-raises what it raised."""

    def __init__(self, function, *args) -> None:
        super().__init__(daemon=True)
        self.function, self.args, self.error = function, args, None
        self.start()

    def run(self) -> None:
        try:
            self.function(*self.args)
        except BaseException as exc:  # re-raised in the joining thread
            self.error = exc

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        if self.error is not None:
            error, self.error = self.error, None
            raise error


# ---- command line --------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--files", type=int, default=200, help="mutated recordings (default 200)")
    parser.add_argument("--streams", type=int, default=50, help="mutated streams (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a command "
                        "counts as hung (default 60)")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                        help=f"worker processes for the files (default: one per core, "
                        f"{DEFAULT_WORKERS} here); the streams get one more")
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
