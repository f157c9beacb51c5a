"""``live-snn bench NAME [options]``: each benchmark is a module (``live_snn.bench.NAME``, or
``live_snn_ui.bench`` for the GUI) with
``add_arguments(parser)`` and ``run(args) -> int``; results are printed and, with
``--write-docs``, written into their section of ``docs/benchmarks.md``.

A benchmark's module is imported only when it runs (the GUI one needs Qt), so its options
are parsed here, by a parser of its own."""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS = {
    "binning": "decode + bin events/s on real recordings, side by side with tonic",
    "model": "per-bin cost of causal step() vs window re-run, CPU (and CUDA)",
    "pipeline": "whole engine on a replayed recording: real-time factor, latency",
    "gui": "GUI redraw rate and engine throughput with the GUI running",
    "sim": "gesture simulator CPU per simulated second; AEDAT4 writing vs dv-processing",
    "realism": "simulated gestures named by a real-data network; statistics vs real recordings",
    "fuzz": "seeded mutations of real recordings and streams through info, run and record",
}


def register(sub: argparse._SubParsersAction) -> None:
    listing = "; ".join(f"{name}: {text}" for name, text in BENCHMARKS.items())
    parser = sub.add_parser("bench", help="benchmarks", description=f"Benchmarks. {listing}")
    parser.add_argument("benchmark", choices=sorted(BENCHMARKS), metavar="NAME", help=listing)
    parser.add_argument("options", nargs=argparse.REMAINDER, help="options of that benchmark")
    parser.set_defaults(func=run_benchmark)


# The GUI benchmark needs Qt, so it lives with the GUI (the core never imports Qt).
MODULES = {name: f"live_snn.bench.{name}" for name in BENCHMARKS} | {"gui": "live_snn_ui.bench"}


def run_benchmark(args: argparse.Namespace) -> int:
    module = importlib.import_module(MODULES[args.benchmark])
    parser = argparse.ArgumentParser(
        prog=f"live-snn bench {args.benchmark}", description=BENCHMARKS[args.benchmark]
    )
    module.add_arguments(parser)
    return int(module.run(parser.parse_args(args.options)) or 0)
