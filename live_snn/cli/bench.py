"""``live-snn bench NAME``: each benchmark is a module ``live_snn.bench.NAME`` with
``add_arguments(parser)`` and ``run(args) -> int``; results are printed and, with
``--write-docs``, written into their section of ``docs/benchmarks.md``."""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS = {
    "binning": "decode + bin events/s on real recordings, side by side with tonic",
    "model": "per-bin cost of causal step() vs window re-run, CPU (and CUDA)",
    "pipeline": "whole engine on a replayed recording: real-time factor, latency",
    "gui": "GUI redraw rate and engine throughput with the GUI running",
}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="benchmarks")
    bench_sub = parser.add_subparsers(dest="benchmark", metavar="NAME", required=True)
    for name, help_text in BENCHMARKS.items():
        bench_parser = bench_sub.add_parser(name, help=help_text)
        module = importlib.import_module(f"live_snn.bench.{name}")
        module.add_arguments(bench_parser)
        bench_parser.set_defaults(func=module.run)
