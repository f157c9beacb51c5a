"""``live-snn bench pipeline``: the whole engine on a replayed recording, as fast as it goes.

The largest shared recording (by events) is replicated end to end to at least ``--seconds``
of data, written to a temporary AEDAT4 file and replayed at max speed through the real
pipeline: AEDAT4 decode → binner → ring buffer → model step (taps included, as the GUI needs
them) → predictor → Prediction records. Reported: real-time factor, steps/s, and latency
percentiles per stage.

Side by side, in the same run: the **window re-run** baseline (the published TCJA network,
``attention="window"``, re-running the last T frames for every bin, which is what a user of
the published model would otherwise do to get a prediction per bin) on the first
``--baseline-seconds`` of the same data. Weights are random: the convolutions are dense, so
their cost does not depend on the weights.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live_snn.bench.report import machine_description, write_section
from live_snn.engine.records import LATENCY_STAGES
from live_snn.errors import LiveSnnError
from live_snn.events import EventBatch

CPU_RTF_TARGET, CPU_P99_TARGET_MS = 2.0, 10.0
GPU_RTF_TARGET, GPU_P99_TARGET_MS = 20.0, 2.0
STAGES = LATENCY_STAGES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recording", type=Path, default=None,
                        help="AEDAT4 file (default: the shared recording with the most events)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="replicate the recording to at least this long (default 60)")
    parser.add_argument("--preset", default="auto",
                        help="model preset (default: lite on CPU, paper on CUDA)")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")
    parser.add_argument("--dt-ms", type=float, default=10.0, help="bin length (default 10 ms)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--baseline-seconds", type=float, default=5.0,
                        help="data run through the window re-run baseline (default 5; 0: skip)")
    parser.add_argument("--write-docs", action="store_true",
                        help="write the results into docs/benchmarks.md")


@dataclass
class Result:
    label: str
    data_s: float
    stats: object  # EngineStats

    def row(self) -> str:
        s = self.stats
        lat = s.latency
        cells = [self.label, f"{self.data_s:.1f}", f"{s.bins}", f"{s.realtime_factor:.2f}",
                 f"{s.steps_per_s:.1f}"]
        for stage in STAGES:
            summary = lat[stage]
            cells.append(f"{summary.p50:.2f} / {summary.p95:.2f} / {summary.p99:.2f}")
        return "| " + " | ".join(cells) + " |"


def _shared_recordings() -> list[Path]:
    default = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    root = Path(os.environ.get("LIVE_SNN_SHARED_DATA", default)) / "recordings"
    paths = sorted(root.glob("*.aedat4"))
    if not paths:
        raise LiveSnnError(f"no recordings found in {root}: pass --recording FILE.aedat4")
    return paths


def _read(path: Path) -> EventBatch:
    from live_snn.sources.aedat4 import Aedat4Source

    with Aedat4Source(path) as source:
        batches = list(source)
    if not batches:
        raise LiveSnnError(f"{path} holds no events")
    return EventBatch.concatenate(batches)


def largest_recording() -> tuple[Path, EventBatch]:
    """The shared recording with the most events (read once each; they are small)."""
    best: tuple[Path, EventBatch] | None = None
    for path in _shared_recordings():
        events = _read(path)
        if best is None or len(events) > len(best[1]):
            best = (path, events)
    assert best is not None
    return best


def replicate(events: EventBatch, seconds: float, gap_us: int) -> tuple[EventBatch, int]:
    """The recording end to end, each copy shifted past the previous one by ``gap_us``."""
    span = int(events.t_last - events.t_first) + gap_us
    copies = max(1, int(np.ceil(seconds * 1e6 / span)))
    out = np.empty(len(events) * copies, dtype=events.events.dtype)
    for k in range(copies):  # a handful of copies, each one vectorised
        part = out[k * len(events):(k + 1) * len(events)]
        part[:] = events.events
        part["t"] += k * span
    return EventBatch(out, events.resolution), copies


def _write_aedat4(path: Path, events: EventBatch) -> Path:
    from live_snn.sinks.aedat4_writer import Aedat4Writer

    with Aedat4Writer(path, events.resolution, "live_snn bench") as writer:
        writer.write(events)
    return path


def _checkpoint(folder: Path, preset: str, attention: str, dt_us: int, sensor) -> Path:
    import torch

    from live_snn.binning import BinningConfig
    from live_snn.model import ModelConfig, build_model, save_checkpoint

    torch.manual_seed(0)
    model = build_model(ModelConfig(preset=preset, attention=attention)).eval()
    h, w = model.config.input_size
    binning = BinningConfig(dt_us=dt_us, sensor=sensor, model=(w, h))
    names = [f"class {k}" for k in range(model.config.num_classes)]
    return save_checkpoint(folder / f"{preset}-{attention}.safetensors", model,
                           binning=binning, class_names=names)


def _replay(recording: Path, checkpoint: Path, device: str) -> object:
    from live_snn.engine.config import EngineConfig
    from live_snn.engine.engine import Engine

    engine = Engine(EngineConfig(device=device, speed=None, record_taps=True, keep_freed_memory=True))
    try:
        engine.open(str(recording))
        engine.load_model(checkpoint)
        engine.start()
        engine.wait()
        stats = engine.stats()
    finally:
        engine.close()
    if stats.state != "finished" or stats.error:
        raise LiveSnnError(f"the replay did not finish: {stats.state} {stats.error or ''}")
    return stats


def run(args: argparse.Namespace) -> int:
    import torch

    from live_snn.engine.runner import resolve_device

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    preset = args.preset if args.preset != "auto" else ("paper" if device.type == "cuda" else "lite")
    dt_us = int(round(args.dt_ms * 1000))
    if args.recording is not None:
        path, events = args.recording, _read(args.recording)
    else:
        path, events = largest_recording()
    replayed, copies = replicate(events, args.seconds, gap_us=dt_us)
    data_s = (replayed.t_last - replayed.t_first) / 1e6
    print(f"recording: {path.name} ({len(events)} events, {events.resolution}), "
          f"replicated {copies}x to {data_s:.1f} s, {len(replayed)} events", flush=True)

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="live-snn-bench-") as tmp:
        folder = Path(tmp)
        full = _write_aedat4(folder / "replayed.aedat4", replayed)
        ckpt = _checkpoint(folder, preset, "causal", dt_us, events.resolution)
        started = time.perf_counter()
        stats = _replay(full, ckpt, str(device))
        print(f"streaming ({preset}, causal step): {time.perf_counter() - started:.1f} s wall",
              flush=True)
        results.append(Result(f"{preset}, causal `step()` (ours)", data_s, stats))
        if args.baseline_seconds > 0:
            cut = replayed.slice_time(None, replayed.t_first + int(args.baseline_seconds * 1e6))
            short = _write_aedat4(folder / "baseline.aedat4", cut)
            window_ckpt = _checkpoint(folder, preset, "window", dt_us, events.resolution)
            stats = _replay(short, window_ckpt, str(device))
            results.append(Result(f"{preset}, window re-run of T frames (baseline)",
                                  (cut.t_last - cut.t_first) / 1e6, stats))

    gpu = device.type == "cuda"
    markdown = _report(args, results, device=device, preset=preset, path=path, events=events,
                       replayed=replayed, copies=copies)
    print(markdown)
    if args.write_docs:
        # CPU and GPU figures come from different machines: each keeps its own section.
        section = "pipeline-gpu" if gpu else "pipeline"
        print(f"written to {write_section(section, markdown)}")
    return 0


def _report(args: argparse.Namespace, results: list[Result], *, device, preset: str,
            path: Path, events: EventBatch, replayed: EventBatch, copies: int) -> str:
    """The markdown section: machine, data, the table of paths, the target verdict."""
    import torch

    ours = results[0].stats
    gpu = device.type == "cuda"
    data_s = (replayed.t_last - replayed.t_first) / 1e6
    rtf_target, p99_target = (GPU_RTF_TARGET, GPU_P99_TARGET_MS) if gpu else (
        CPU_RTF_TARGET, CPU_P99_TARGET_MS)
    p99 = ours.latency["bin_to_prediction"].p99
    overhead = ours.latency["bin_to_prediction"].p50 - ours.latency["step"].p50
    verdict = (f"real-time factor {ours.realtime_factor:.2f} "
               f"({'meets' if ours.realtime_factor >= rtf_target else 'misses'} ≥ {rtf_target:g}), "
               f"bin-close-to-prediction p99 {p99:.2f} ms "
               f"({'meets' if p99 <= p99_target else 'misses'} ≤ {p99_target:g} ms)")
    header = ("| path | data s | bins | real-time factor | steps/s | "
              + " | ".join(f"{s} p50 / p95 / p99 ms" for s in STAGES) + " |")
    table = "\n".join([header, "|" + "---|" * (5 + len(STAGES))] + [r.row() for r in results])
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    return "\n".join([
        f"Machine: {machine_description()}; device `{device}`, torch threads "
        f"{torch.get_num_threads()}; load average after the run {load} (1 / 5 / 15 min: "
        "other jobs sharing the cores slow every figure here).",
        "",
        f"Replay of `{path.name}` ({len(events)} events, {events.resolution}) replicated "
        f"{copies}× to {data_s:.1f} s ({len(replayed)} events), written to a temporary AEDAT4 "
        f"file and run at max speed through the whole engine (decode, binning, ring buffer, "
        f"`{preset}` model with taps, predictor); dt = {args.dt_ms:g} ms; random weights.",
        "",
        table,
        "",
        f"Target on {'GPU' if gpu else 'CPU'}: {verdict}. What the engine adds around the "
        f"model step (bin_to_prediction − step, medians): {overhead:.2f} ms per bin; the rest "
        f"is the network itself (see the model benchmark).",
        "" if gpu else "GPU (H100, `paper` preset, targets real-time factor ≥ 20 and p99 ≤ "
        "2 ms): **unmeasured** — no GPU on the machine these figures come from; "
        "`live-snn bench pipeline --device cuda --write-docs` on one writes its figures in a "
        "section of their own.",
        "",
        "Stages: event_to_bin = the bin's newest events enter the binner → the bin is closed "
        "(a replay feeds the binner one bin's worth of events at a time; live, it is measured "
        "from when the batch arrived); queue = bin closed → model step starts; step = model "
        "step incl. device sync and the copy of scores and taps to the host; "
        "bin_to_prediction = bin closed → Prediction ready.",
        "",
        f"Reproduce: `live-snn bench pipeline{' --device cuda' if gpu else ''} "
        f"--seconds {args.seconds:g} --dt-ms {args.dt_ms:g}"
        f"{' --threads ' + str(args.threads) if args.threads else ''} --write-docs`.",
    ])
