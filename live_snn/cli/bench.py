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
    "streams": "live cameras in real time: batched through one model vs separate engines",
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


def benchmark_parser(name: str) -> argparse.ArgumentParser:
    """The options of benchmark ``name`` (its module imported now)."""
    module = importlib.import_module(MODULES[name])
    parser = argparse.ArgumentParser(prog=f"live-snn bench {name}", description=BENCHMARKS[name])
    module.add_arguments(parser)
    return parser


def run_benchmark(args: argparse.Namespace) -> int:
    options = benchmark_parser(args.benchmark).parse_args(args.options)
    return int(importlib.import_module(MODULES[args.benchmark]).run(options) or 0)
