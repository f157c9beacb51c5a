"""``live-snn bench streams``: how many live cameras one machine serves in real time, with
all streams batched through one model (:class:`MultiStreamEngine`) versus the same number of
separate engines, one process each (what a user runs today: one ``live-snn run`` per camera).

Each camera is a :class:`~live_snn.bench.live_cameras.CameraReplay` of the bundled simulated
gesture sessions, starting at its own place in them, delivered at wall-clock pace; every
camera of a trial starts at the same instant (one ``time.monotonic`` for all processes).
A trial is **real time** when every stream ran to its end with 0 skipped bins, no events lost
to a full queue and (nearly) every bin predicted. Stream counts are tried in ascending order
per mode and dt; a mode stops at its first count that misses real time (``--try-all`` goes
on). Weights are random (a dense network costs the same whatever its weights); each process
warms its model up on one second of data before it is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from live_snn.bench.live_cameras import CameraReplay, camera_events, session_loop
from live_snn.bench.report import machine_description, write_section
from live_snn.precision import CONV_DTYPES

SPATIAL_DROPS = ("out_of_range", "outside_crop")
CPU_TARGET_STREAMS, CPU_TARGET_DT_MS, P99_TARGET_MS = 8, 20.0, 20.0
OFFSET_STEP_S = 7.3      # camera k starts k × this far into the session loop
LEAD_S = 1.0             # cameras start this long after everything is ready
WARMUP_S = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--counts", default="4,8,12,16",
                        help="stream counts tried batched, ascending (default 4,8,12,16)")
    parser.add_argument("--separate-counts", default="2,4,8",
                        help="stream counts tried as separate engines (default 2,4,8; '' skips)")
    parser.add_argument("--dt-ms", default="20,10", help="bin lengths (default 20,10)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="live data per camera and trial (default 60)")
    parser.add_argument("--preset", default="auto",
                        help="model preset (default: lite on CPU, paper on CUDA)")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads in each process (default 1)")
    parser.add_argument("--gather-ms", type=float, default=4.0,
                        help="batched: how long a ready bin waits for the streams due with "
                             "it (EngineConfig.batch_gather_ms; default 4, 0: none)")
    parser.add_argument("--conv-dtype", choices=CONV_DTYPES, default="float32",
                        help="the convolutions' arithmetic in every engine "
                             "(EngineConfig.conv_dtype; default float32)")
    parser.add_argument("--try-all", action="store_true",
                        help="try every count, also after one missed real time")
    parser.add_argument("--json", type=Path, default=None, help="write every trial here")
    parser.add_argument("--write-docs", action="store_true",
                        help="write the results into docs/benchmarks.md")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)


@dataclass
class StreamResult:
    state: str
    bins: int
    bins_skipped: int
    events_lost: int              # dropped for want of time (skipped bins, full queue)
    b2p_p99_ms: float             # bin closed -> prediction, p99
    step_p50_ms: float            # separate engines: the model step of this stream alone
    error: str | None = None


@dataclass
class Trial:
    mode: str                     # batched | separate
    dt_ms: float
    streams: int
    seconds: float
    results: list[StreamResult] = field(default_factory=list)
    step_ms_per_stream: float = float("nan")   # one bin of one stream (batched: call / rows)
    cpu_s: float = float("nan")                # CPU time of the serving processes
    mean_batch: float = 1.0                    # streams stepped per model call
    wall_s: float = float("nan")

    @property
    def expected_bins(self) -> int:
        return int(self.seconds * 1000 / self.dt_ms)

    @property
    def realtime(self) -> bool:
        return len(self.results) == self.streams and all(
            r.state == "finished" and r.bins_skipped == 0 and r.events_lost == 0
            and r.bins >= 0.98 * self.expected_bins for r in self.results)

    @property
    def skipped(self) -> int:
        return sum(r.bins_skipped for r in self.results)

    @property
    def worst_p99_ms(self) -> float:
        return max((r.b2p_p99_ms for r in self.results), default=float("nan"))

    def as_dict(self) -> dict:
        return {**asdict(self), "realtime": self.realtime, "skipped": self.skipped,
                "worst_p99_ms": self.worst_p99_ms, "expected_bins": self.expected_bins}


def stream_result(stats) -> StreamResult:
    lost = sum(n for reason, n in stats.events_dropped.items() if reason not in SPATIAL_DROPS)
    return StreamResult(stats.state, stats.bins, stats.bins_skipped, int(lost),
                        stats.latency["bin_to_prediction"].p99, stats.latency["step"].p50,
                        stats.error)


def _counts(text: str) -> list[int]:
    return sorted({int(x) for x in text.split(",") if x.strip()})


def _checkpoint(folder: Path, preset: str, dt_us: int) -> Path:
    from live_snn.bench.pipeline import _checkpoint as make
    from live_snn.events import Resolution

    return make(folder, preset, "causal", dt_us, Resolution(128, 128))


def _cameras(loop, n: int, seconds: float, first: int = 0) -> list[CameraReplay]:
    return [CameraReplay(camera_events(loop, seconds, (first + k) * OFFSET_STEP_S),
                         description=f"camera {first + k}", start_at=0.0) for k in range(n)]


def _batched(loop, ckpt: Path, n: int, seconds: float, device: str, gather_ms: float,
             conv_dtype: str):
    from live_snn.engine.config import EngineConfig
    from live_snn.engine.multi_engine import MultiStreamEngine

    cameras = _cameras(loop, n, seconds)
    engine = MultiStreamEngine(EngineConfig(device=device, record_taps=False,
                                            keep_freed_memory=True, batch_gather_ms=gather_ms,
                                            conv_dtype=conv_dtype))
    try:
        for k, camera in enumerate(cameras):
            engine.add(camera, name=f"camera{k}")
        engine.load_model(ckpt)
        start_at = time.monotonic() + LEAD_S
        for camera in cameras:
            camera.start_at = start_at
        cpu0 = time.process_time()
        engine.start()
        engine.wait(seconds + LEAD_S + 60)
        stats = engine.stats()
        cpu = time.process_time() - cpu0
    finally:
        engine.close()
    return stats, cpu


def batched_trial(loop, ckpt: Path, n: int, dt_ms: float, seconds: float, device: str,
                  gather_ms: float, conv_dtype: str = "float32") -> Trial:
    _batched(loop, ckpt, n, WARMUP_S, device, gather_ms, conv_dtype)
    started = time.perf_counter()
    stats, cpu = _batched(loop, ckpt, n, seconds, device, gather_ms, conv_dtype)
    trial = Trial("batched", dt_ms, n, seconds, wall_s=time.perf_counter() - started, cpu_s=cpu,
                  step_ms_per_stream=stats.step_ms_per_bin.p50, mean_batch=stats.mean_batch)
    trial.results = [stream_result(s) for s in stats.streams.values()]
    return trial


def _single(camera: CameraReplay, ckpt: Path, device: str, start_at: float, conv_dtype: str):
    from live_snn.engine.config import EngineConfig
    from live_snn.engine.engine import Engine

    engine = Engine(EngineConfig(device=device, record_taps=False, keep_freed_memory=True,
                                 conv_dtype=conv_dtype))
    try:
        engine.open(camera)
        engine.load_model(ckpt)
        camera.start_at = start_at
        engine.start()
        engine.wait(camera.events.t_last / 1e6 + 120)
        return engine.stats()
    finally:
        engine.close()


def worker(spec: str) -> int:
    """One separate engine (a process of its own): warm up, say ``ready``, read the common
    start time from stdin, serve its camera, print its result as JSON."""
    job = json.loads(spec)
    import torch

    torch.set_num_threads(job["threads"])
    loop = session_loop()
    ckpt = Path(job["checkpoint"])
    _single(_cameras(loop, 1, WARMUP_S, job["index"])[0], ckpt, job["device"], time.monotonic(),
            job["conv_dtype"])
    camera = _cameras(loop, 1, job["seconds"], job["index"])[0]
    print("ready", flush=True)
    start_at = float(sys.stdin.readline())
    cpu0 = time.process_time()
    stats = _single(camera, ckpt, job["device"], start_at, job["conv_dtype"])
    result = {**asdict(stream_result(stats)), "cpu_s": time.process_time() - cpu0}
    print(json.dumps(result), flush=True)
    return 0


def separate_trial(ckpt: Path, n: int, dt_ms: float, seconds: float, device: str,
                   threads: int, folder: Path, conv_dtype: str = "float32") -> Trial:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    logs = [folder / f"worker{k}.log" for k in range(n)]
    cpu = 0.0
    procs = []
    try:
        for k in range(n):
            job = json.dumps({"checkpoint": str(ckpt), "index": k, "seconds": seconds,
                              "device": device, "threads": threads, "conv_dtype": conv_dtype})
            with open(logs[k], "w") as log:
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "live_snn.bench.streams", "--worker", job],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                    env=env))
        for k, proc in enumerate(procs):
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError(f"separate engine {k} failed: {logs[k].read_text()[-2000:]}")
        started = time.perf_counter()
        start_at = time.monotonic() + LEAD_S
        for proc in procs:
            proc.stdin.write(f"{start_at!r}\n")
            proc.stdin.flush()
        trial = Trial("separate", dt_ms, n, seconds)
        for k, proc in enumerate(procs):
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"separate engine {k} failed: {logs[k].read_text()[-2000:]}")
            result = json.loads(line)
            cpu += result.pop("cpu_s")
            trial.results.append(StreamResult(**result))
            proc.wait(60)
        trial.wall_s = time.perf_counter() - started
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    trial.cpu_s = cpu   # the timed runs only, summed over the processes
    steps = [r.step_p50_ms for r in trial.results]
    trial.step_ms_per_stream = sorted(steps)[len(steps) // 2]
    return trial


def _line(trial: Trial) -> str:
    return (f"{trial.mode:>8s} dt {trial.dt_ms:g} ms, {trial.streams:2d} streams: "
            f"{'real time' if trial.realtime else 'NOT real time'} (skipped {trial.skipped}, "
            f"bins {min((r.bins for r in trial.results), default=0)}/{trial.expected_bins}), "
            f"step per stream {trial.step_ms_per_stream:.2f} ms ({trial.mean_batch:.1f} per call), "
            f"worst p99 "
            f"{trial.worst_p99_ms:.1f} ms, CPU {trial.cpu_s:.1f} s")


def run(args: argparse.Namespace) -> int:
    if args.worker is not None:
        return worker(args.worker)
    import torch

    from live_snn.engine.runner import check_conv_dtype, resolve_device

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    check_conv_dtype(args.conv_dtype, device)  # not in each separate engine's process
    preset = args.preset if args.preset != "auto" else ("paper" if device.type == "cuda" else "lite")
    load_before = os.getloadavg()
    loop = session_loop()
    trials: list[Trial] = []
    with tempfile.TemporaryDirectory(prefix="live-snn-bench-streams-") as tmp:
        folder = Path(tmp)
        for dt_ms in (float(x) for x in args.dt_ms.split(",") if x.strip()):
            ckpt = _checkpoint(folder / f"dt{dt_ms:g}", preset, int(round(dt_ms * 1000)))
            for mode, counts in (("batched", _counts(args.counts)),
                                 ("separate", _counts(args.separate_counts))):
                for n in counts:
                    if mode == "batched":
                        trial = batched_trial(loop, ckpt, n, dt_ms, args.seconds, str(device),
                                              args.gather_ms, args.conv_dtype)
                    else:
                        trial = separate_trial(ckpt, n, dt_ms, args.seconds, str(device),
                                               args.threads, folder, args.conv_dtype)
                    trials.append(trial)
                    print(_line(trial), flush=True)
                    if not trial.realtime and not args.try_all:
                        break
    load_after = os.getloadavg()
    if args.json is not None:
        args.json.write_text(json.dumps({"preset": preset, "device": str(device),
                                         "trials": [t.as_dict() for t in trials]}, indent=2))
    markdown = report(args, trials, preset=preset, device=str(device),
                      load=(load_before, load_after))
    print(markdown)
    if args.write_docs:
        section = "streams-gpu" if device.type == "cuda" else "streams"
        if args.conv_dtype != "float32":
            section += f"-{args.conv_dtype}"
        print(f"written to {write_section(section, markdown)}")
    return 0


def most_realtime(trials: list[Trial], mode: str, dt_ms: float) -> int:
    """The largest stream count of ``mode`` at ``dt_ms`` that ran in real time (0: none)."""
    return max((t.streams for t in trials if t.mode == mode and t.dt_ms == dt_ms
                and t.realtime), default=0)


def report(args, trials: list[Trial], *, preset: str, device: str, load) -> str:
    cores = os.cpu_count()
    lines = [
        f"Machine: {machine_description()}; device `{device}`, {args.threads} torch thread(s) "
        f"per process. Load average (1 min, all processes) {load[0][0]:.1f} before, "
        f"{load[1][0]:.1f} after, on {cores} cores: other work shared the cores.",
        "",
        f"Command: `live-snn bench streams --counts {args.counts or chr(39) * 2} "
        f"--separate-counts {args.separate_counts or chr(39) * 2} --dt-ms {args.dt_ms} --seconds {args.seconds:g} --preset "
        f"{preset} --threads {args.threads} --gather-ms {args.gather_ms:g} "
        f"--conv-dtype {args.conv_dtype}"
        f"{' --try-all' if args.try_all else ''}`. "
        f"`{preset}` model, random weights; each camera replays the bundled simulated sessions "
        f"from its own offset at wall-clock pace ({args.seconds:g} s per trial). batched = one "
        "`MultiStreamEngine`, all streams in one process; separate = one `Engine` per camera, "
        "each in its own process. Real time = every stream: 0 skipped bins, no events lost, "
        "every bin predicted.",
        "",
        "| mode | dt ms | streams | real time | bins skipped | step ms per stream (p50) "
        "| streams per model call | bin → prediction p99, worst stream (ms) "
        "| CPU s per camera-second |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for t in trials:
        cpu_rate = t.cpu_s / (t.streams * t.seconds)
        lines.append(f"| {t.mode} | {t.dt_ms:g} | {t.streams} | {'yes' if t.realtime else 'no'} "
                     f"| {t.skipped} | {t.step_ms_per_stream:.2f} | {t.mean_batch:.2f} "
                     f"| {t.worst_p99_ms:.1f} "
                     f"| {cpu_rate:.3f} |")
    lines += ["", "Most streams in real time:"]
    for dt_ms in sorted({t.dt_ms for t in trials}, reverse=True):
        held = {mode: (str(most_realtime(trials, mode, dt_ms))
                       if any(t.mode == mode and t.dt_ms == dt_ms for t in trials)
                       else "not tried") for mode in ("batched", "separate")}
        lines.append(f"- dt {dt_ms:g} ms: batched {held['batched']}, separate engines "
                     f"{held['separate']} (largest count tried that held; 0 = none did)")
    if device == "cpu":
        held = [t for t in trials if t.mode == "batched" and t.dt_ms == CPU_TARGET_DT_MS
                and t.realtime and t.streams >= CPU_TARGET_STREAMS]
        p99 = min((t.worst_p99_ms for t in held), default=float("nan"))
        tried = any(t.mode == "batched" and t.dt_ms == CPU_TARGET_DT_MS for t in trials)
        verdict = ("met" if held and p99 <= P99_TARGET_MS else "missed" if tried
                   else "not tried in this run")
        lines.append(f"- Target (this CPU, `lite`, dt 20 ms): ≥ {CPU_TARGET_STREAMS} streams "
                     f"batched in real time with bin → prediction p99 ≤ {P99_TARGET_MS:g} ms: "
                     f"**{verdict}**" + (f" (worst stream p99 {p99:.1f} ms)" if held else ""))
    lines.append("- CPU s per camera-second: process CPU time of the timed run (every thread: "
                 "readers, binning, model, predictor), summed over the processes of separate "
                 "engines, over streams × seconds; start-up, model load and warm-up excluded.")
    return "\n".join(lines)


if __name__ == "__main__":
    # the separate engines of a trial: `python -m live_snn.bench.streams --worker JOB`
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
