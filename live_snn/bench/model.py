"""``live-snn bench model``: what one bin costs the network, streaming versus re-running.

Side by side in one run, per preset, batch size and device:

* **causal step**: ``attention="causal"``, ``model.step()`` once per bin with the state
  carried (taps included: they are what the GUI draws), the streaming path;
* **window re-run**: ``attention="window"`` (the published TCJA), ``model(last T frames)``
  once per bin, which is what a user of the published network has to do to get a prediction
  per bin;

reported as milliseconds per bin and their ratio. On CPU the step is timed first with the
default malloc and then, like everything after it, with
:func:`live_snn.bench.malloc.keep_freed_memory` (``--malloc``). On CUDA, ``step()`` is also
timed replayed as a CUDA graph (:class:`live_snn.model.cuda_graph.CudaGraphStep`) and, with
``--compile``, through ``torch.compile``. Everything runs under ``torch.inference_mode()`` on
random spike-like frames with random weights (the convolutions are dense: their cost does not
depend on the weights or on how many neurons fire).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from live_snn.bench.malloc import keep_freed_memory
from live_snn.bench.report import machine_description, write_section
from live_snn.errors import LiveSnnError
from live_snn.model import PRESETS, ModelConfig, build_model, count_parameters
from live_snn.model.inference import bfloat16_is_native

LITE_CPU_TARGET_MS = 5.0
PAPER_H100_TARGET_MS = 1.0
SPEEDUP_TARGET = 10.0
STEP, WINDOW, STEP_DEFAULT_MALLOC = "causal step", "window re-run", "causal step, default malloc"
STEP_BFLOAT16 = "causal step, bfloat16 conv"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--presets", default="paper,lite",
                        help="comma-separated presets (default: paper,lite)")
    parser.add_argument("--batch", default="1,8", help="comma-separated batch sizes (default 1,8)")
    parser.add_argument("--device", choices=("cpu", "cuda", "all"), default="all",
                        help="all = CPU, and CUDA when available")
    parser.add_argument("--T", type=int, default=20, help="window length (default 20)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed repetitions; the median is reported (default 3)")
    parser.add_argument("--steps", type=int, default=20,
                        help="step() calls per repetition (default 20)")
    parser.add_argument("--window-runs", type=int, default=1,
                        help="window re-runs per repetition (default 1)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--compare-threads", default="",
                        help="CPU: also time the step with these torch thread counts "
                             "(comma-separated), after everything else")
    parser.add_argument("--malloc", choices=("both", "keep", "default"), default="both",
                        help="CPU: time the step with the default malloc and with "
                             "keep_freed_memory() (both, the default), or only one of them")
    parser.add_argument("--compile", action="store_true",
                        help="on CUDA, also time torch.compile'd step()")
    parser.add_argument("--write-docs", action="store_true",
                        help="write the results into docs/benchmarks.md")


@dataclass
class Row:
    preset: str
    device: str
    batch: int
    path: str            # STEP | WINDOW | STEP_DEFAULT_MALLOC | "step, CUDA graph" | ...
    ms_per_bin: float | None
    note: str = ""


def _int_list(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise LiveSnnError(f"--{what} must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise LiveSnnError(f"--{what} needs positive integers, got {text!r}")
    return values


def _time_ms(call: Callable[[], object], calls: int, repeats: int, device: torch.device,
             warmup: int = 2) -> float:
    """Median over ``repeats`` of the mean wall time of ``calls`` calls (after ``warmup``
    calls), with the device synchronised around each repetition."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        call()
    sync()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            call()
        sync()
        samples.append((time.perf_counter() - started) * 1e3 / calls)
    return statistics.median(samples)


def _frames(n: int, batch: int, config: ModelConfig, device: torch.device) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    shape = (n, batch, config.in_channels, *config.input_size)
    counts = torch.randint(1, 6, shape, generator=g).float()
    return (counts * (torch.rand(shape, generator=g) < 0.2)).to(device)


def _stepper(model, batch: int, frames: torch.Tensor, device: torch.device) -> Callable[[], None]:
    """One bin of live streaming per call: the next frame, the state carried."""
    state = [model.init_state(batch, device)]
    cursor = [0]

    def step() -> None:
        _, state[0], _ = model.step(frames[cursor[0] % len(frames)], state[0])
        cursor[0] += 1

    return step


def _causal(preset: str, args: argparse.Namespace, device: torch.device,
            conv_dtype: str = "float32"):
    # As the engine runs it: the inference copy (TCJASNN.fused_for_inference).
    model = build_model(ModelConfig(preset=preset, attention="causal", T=args.T))
    return model.eval().to(device).fused_for_inference(conv_dtype=conv_dtype)


def bench_step(preset: str, batch: int, device: torch.device, args: argparse.Namespace,
               path: str = STEP, conv_dtype: str = "float32") -> Row:
    model = _causal(preset, args, device, conv_dtype)
    frames = _frames(args.T + args.steps, batch, model.config, device)
    with torch.inference_mode():
        ms = _time_ms(_stepper(model, batch, frames, device), args.steps, args.repeats, device)
    return Row(preset, device.type, batch, path, ms)


def bench_one(preset: str, batch: int, device: torch.device, args: argparse.Namespace) -> list[Row]:
    rows = [bench_step(preset, batch, device, args)]
    if bfloat16_is_native(device):  # `--conv-dtype bfloat16`, where it is not emulated
        rows.append(bench_step(preset, batch, device, args, STEP_BFLOAT16, "bfloat16"))
    window = build_model(ModelConfig(preset=preset, attention="window", T=args.T))
    window = window.eval().to(device).fused_for_inference()
    window_frames = _frames(args.T, batch, window.config, device)
    with torch.inference_mode():
        rows.append(Row(preset, device.type, batch, f"{WINDOW} (T = {args.T})",
                        _time_ms(lambda: window(window_frames), args.window_runs, args.repeats,
                                 device, warmup=1)))
    if device.type == "cuda":
        causal = _causal(preset, args, device)
        frames = _frames(args.T + args.steps, batch, causal.config, device)
        rows.append(_cuda_graph_row(causal, batch, frames, device, args))
        if args.compile:
            rows.append(_compile_row(causal, batch, frames, device, args))
    return rows


def _cuda_graph_row(model, batch, frames, device, args) -> Row:
    from live_snn.model.cuda_graph import CudaGraphStep

    try:
        graphed = CudaGraphStep(model, batch)
    except Exception as exc:  # report why, keep the other figures
        return Row(model.config.preset, device.type, batch, "step, CUDA graph", None,
                   f"failed: {type(exc).__name__}: {exc}")
    cursor = [0]

    def step() -> None:
        graphed.step(frames[cursor[0] % len(frames)])
        cursor[0] += 1

    return Row(model.config.preset, device.type, batch, "step, CUDA graph",
               _time_ms(step, args.steps, args.repeats, device))


def _compile_row(model, batch, frames, device, args) -> Row:
    try:
        compiled = torch.compile(model.step)
        with torch.inference_mode():
            state = model.init_state(batch, device)
            for t in range(3):  # compile (and recompile for the carried state) before timing
                _, state, _ = compiled(frames[t], state)
    except Exception as exc:
        return Row(model.config.preset, device.type, batch, "step, torch.compile", None,
                   f"failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    holder, cursor = [state], [0]

    def step() -> None:
        _, holder[0], _ = compiled(frames[cursor[0] % len(frames)], holder[0])
        cursor[0] += 1

    with torch.inference_mode():
        ms = _time_ms(step, args.steps, args.repeats, device)
    return Row(model.config.preset, device.type, batch, "step, torch.compile", ms)


def _show(row: Row) -> None:
    shown = "-" if row.ms_per_bin is None else f"{row.ms_per_bin:.2f} ms/bin"
    print(f"  {row.path:<30} {shown} {row.note}", flush=True)


def run(args: argparse.Namespace) -> int:
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    unknown = [p for p in presets if p not in PRESETS]
    if unknown:
        raise LiveSnnError(f"unknown preset(s) {unknown}; known: {sorted(PRESETS)}")
    batches = _int_list(args.batch, "batch")
    if args.T < 1 or args.repeats < 1 or args.steps < 1 or args.window_runs < 1:
        raise LiveSnnError("--T, --repeats, --steps and --window-runs must be positive")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    devices = []
    if args.device in ("cpu", "all"):
        devices.append(torch.device("cpu"))
    if args.device in ("cuda", "all"):
        if torch.cuda.is_available():
            devices.append(torch.device("cuda"))
        elif args.device == "cuda":
            raise LiveSnnError(f"--device cuda: torch {torch.__version__} sees no CUDA device "
                               "here (use --device cpu, or all to add CUDA where there is one)")
        else:
            print("CUDA not available: CUDA figures skipped")
    rows: list[Row] = []
    load_before = _load_average()
    cpu = torch.device("cpu")
    if cpu in devices and args.malloc == "both":
        # Before keep_freed_memory(): it cannot be undone within the process.
        for preset in presets:
            for batch in batches:
                print(f"{preset} batch {batch} on cpu, default malloc:", flush=True)
                rows.append(bench_step(preset, batch, cpu, args, STEP_DEFAULT_MALLOC))
                _show(rows[-1])
    kept = args.malloc != "default" and keep_freed_memory()
    for device in devices:
        for preset in presets:
            for batch in batches:
                print(f"{preset} batch {batch} on {device.type}:", flush=True)
                for row in bench_one(preset, batch, device, args):
                    _show(row)
                    rows.append(row)
    if cpu in devices and args.compare_threads:
        threads_before = torch.get_num_threads()
        for threads in _int_list(args.compare_threads, "compare-threads"):
            torch.set_num_threads(threads)
            for preset in presets:
                for batch in batches:
                    print(f"{preset} batch {batch} on cpu, {threads} threads:", flush=True)
                    rows.append(bench_step(preset, batch, cpu, args, _threads_path(threads)))
                    _show(rows[-1])
        torch.set_num_threads(threads_before)
    gpu_name = torch.cuda.get_device_name(0) if any(d.type == "cuda" for d in devices) else None
    load = (load_before, _load_average())
    markdown = render(rows, args, gpu_name, malloc_kept=kept, load=load,
                      parameters=parameter_counts(presets, args.T))
    print()
    print(markdown)
    if args.write_docs:
        path = write_section("model", markdown)
        print(f"\nwritten to {path}")
    return 0


def parameter_counts(presets: list[str], T: int) -> dict[str, tuple[int, int]]:
    """Preset -> (parameters with causal TCJA, with the published window TCJA)."""
    return {p: tuple(count_parameters(build_model(ModelConfig(preset=p, attention=a, T=T)))
                     for a in ("causal", "window")) for p in presets}


def _threads_path(threads: int) -> str:
    return f"causal step, {threads} thread{'s' if threads > 1 else ''}"


def _load_average() -> float | None:
    """1-minute load average: other work on the machine skews CPU timings."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def command_line(args: argparse.Namespace) -> str:
    parts = [f"live-snn bench model --presets {args.presets} --batch {args.batch}",
             f"--device {args.device} --T {args.T} --repeats {args.repeats}",
             f"--steps {args.steps} --window-runs {args.window_runs} --malloc {args.malloc}"]
    if args.threads is not None:
        parts.append(f"--threads {args.threads}")
    if args.compare_threads:
        parts.append(f"--compare-threads {args.compare_threads}")
    if args.compile:
        parts.append("--compile")
    return " ".join(parts)


def render(rows: list[Row], args: argparse.Namespace, gpu_name: str | None = None, *,
           malloc_kept: bool = False,
           load: tuple[float | None, float | None] = (None, None),
           parameters: dict[str, tuple[int, int]] | None = None) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    keyed = {(r.preset, r.device, r.batch, r.path.split(" (T =")[0]): r.ms_per_bin for r in rows}
    combos = list(dict.fromkeys((r.preset, r.device, r.batch) for r in rows
                                if r.path.startswith(WINDOW)))
    has_default = any(r.path == STEP_DEFAULT_MALLOC for r in rows)
    extra_threads = list(dict.fromkeys(r.path for r in rows if r.path.endswith(("thread", "threads"))))
    extra_threads += [STEP_BFLOAT16] if any(r.path == STEP_BFLOAT16 for r in rows) else []
    load_text = ""
    if None not in load:
        load_text = (f" Load average (1 min, all processes) {load[0]:.1f} at the start, "
                     f"{load[1]:.1f} at the end, on {os.cpu_count()} cores.")
    lines = [
        f"Machine: {machine_description()}.{load_text}",
        "",
        f"Command: `{command_line(args)}` (median of {args.repeats} repetitions of "
        f"{args.steps} steps / {args.window_runs} window re-run(s); random weights, "
        "spike-like frames). "
        + ("Timed with `keep_freed_memory()` (glibc keeps freed blocks for reuse)"
           if malloc_kept else "Timed with the default malloc")
        + (", after a first pass of steps with the default malloc." if has_default else "."),
        "",
        f"| preset | device | batch | causal `step()` ms/bin | window re-run (T = {args.T}) "
        "ms/bin | window ÷ step | step ms per stream |"
        + (" step, default malloc |" if has_default else "")
        + "".join(f" {p.replace('causal ', '')} |" for p in extra_threads),
        "|---|---|---|---:|---:|---:|---:|" + ("---:|" if has_default else "")
        + "---:|" * len(extra_threads),
    ]
    targets = []
    for preset, device, batch in combos:
        step = keyed.get((preset, device, batch, STEP))
        window = keyed.get((preset, device, batch, WINDOW))
        ratio = window / step if step and window else None
        line = (f"| {preset} | {device} | {batch} | {ms(step)} | {ms(window)} | "
                f"{'-' if ratio is None else f'{ratio:.1f}×'} | "
                f"{ms(step / batch if step else None)} |")
        if has_default:
            line += f" {ms(keyed.get((preset, device, batch, STEP_DEFAULT_MALLOC)))} |"
        for path in extra_threads:
            line += f" {ms(keyed.get((preset, device, batch, path)))} |"
        lines.append(line)
        if ratio is not None:
            ok = "met" if ratio >= SPEEDUP_TARGET else "NOT met"
            targets.append(f"- step ≥ {SPEEDUP_TARGET:.0f}× cheaper than the T = {args.T} window "
                           f"re-run, {preset} batch {batch} on {device}: {ratio:.1f}× ({ok})")
        if preset == "lite" and device == "cpu" and batch == 1 and step is not None:
            ok = "met" if step <= LITE_CPU_TARGET_MS else "NOT met"
            targets.append(f"- lite ≤ {LITE_CPU_TARGET_MS:g} ms per step on this CPU (one "
                           f"stream): {step:.2f} ms ({ok})")
    cuda_rows = [r for r in rows if r.device == "cuda" and r.path.startswith("step,")]
    if cuda_rows:
        lines += ["", "| preset | batch | path | ms/bin | note |", "|---|---|---|---:|---|"]
        for r in cuda_rows:
            lines.append(f"| {r.preset} | {r.batch} | {r.path} | {ms(r.ms_per_bin)} | {r.note} |")
    # float32 only: the bfloat16 row is another arithmetic, shown in its own column
    paper_cuda = [r.ms_per_bin for r in rows if r.preset == "paper" and r.device == "cuda"
                  and r.ms_per_bin is not None and not r.path.startswith(WINDOW)
                  and r.path != STEP_BFLOAT16]
    if paper_cuda:
        best = min(paper_cuda)
        gpu = gpu_name or "an unnamed GPU"
        ok = "met" if best <= PAPER_H100_TARGET_MS else "NOT met"
        targets.append(f"- paper ≤ {PAPER_H100_TARGET_MS:g} ms per step on an H100: best "
                       f"{best:.2f} ms on {gpu} ({ok}{'' if 'H100' in gpu else '; not an H100'})")
    elif "paper" in {r.preset for r in rows}:
        targets.append(f"- paper ≤ {PAPER_H100_TARGET_MS:g} ms per step on an H100: not measured "
                       "(no CUDA device in this run)")
    if parameters:
        counts = "; ".join(f"{p} {causal:,} causal, {window:,} window (published TCJA)"
                           for p, (causal, window) in parameters.items())
        lines += ["", f"Parameters: {counts}."]
    lines += ["", "Targets:", *targets]
    return "\n".join(lines)
