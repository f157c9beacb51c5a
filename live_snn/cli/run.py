"""``live-snn run SOURCE``: run a model on a source headless, print a compact live line and
a summary, and optionally write every bin as JSON Lines (docs/jsonl.md).

``live-snn run SRC1 SRC2 ...`` runs several sources through one model, batched
(:mod:`live_snn.cli.run_streams`); one source runs on the single-stream engine, as always."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from live_snn.cli.engine_options import (
    add_engine_arguments,
    add_speed_argument,
    engine_config_from_args,
    set_torch_threads,
)
from live_snn.cli.run_report import (
    StatusLine,
    conv_dtype_note,
    print_event,
    summary_record,
)
from live_snn.errors import LiveSnnError
from live_snn.outputs import check_outputs, named, write_text_atomic


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "run",
        help="run a model on a source headless and print predictions",
        description="Run a model on SOURCE: a recording (.aedat4), camera[:SERIAL], "
                    "tcp://host:port, a Unix socket path, or sim:... Prints a live line and "
                    "a summary; --jsonl writes one record per bin (see docs/jsonl.md). "
                    "Several sources share one model, their bins stepped as one batch: one "
                    "JSONL per stream with --jsonl-dir, one summary with a row per stream.",
    )
    parser.add_argument("source", metavar="SOURCE", nargs="+",
                        help="one or more sources (several: batched through one model)")
    add_engine_arguments(parser)
    add_speed_argument(parser)
    parser.add_argument("--jsonl", type=Path, metavar="FILE",
                        help="write one JSON line per bin (first line: session header)")
    parser.add_argument("--jsonl-dir", type=Path, metavar="DIR",
                        help="write one JSONL per stream into DIR, each named after its source")
    parser.add_argument("--gather-ms", type=float, default=4.0, metavar="MS",
                        help="several sources: a ready bin waits up to MS ms for the live "
                             "streams whose bin is due, so that they share one model call "
                             "(default 4; 0: step each bin as soon as the model is free)")
    parser.add_argument("--taps", action="store_true",
                        help="include attention taps and spike rates in the JSONL records")
    parser.add_argument("--summary-json", type=Path, metavar="FILE",
                        help="write the end-of-run summary as JSON")
    parser.add_argument("--duration", type=float, default=None, metavar="S",
                        help="stop after S seconds of wall time (e.g. for a camera or sim:)")
    parser.add_argument("--quiet", action="store_true", help="no live line, summary only")
    parser.add_argument("--overwrite", action="store_true",
                        help="let --jsonl / --summary-json replace an existing recording file")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="torch CPU threads (default: torch's choice; 1 is often best for "
                             "one stream on a small, busy CPU)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.duration is not None and args.duration <= 0:
        raise LiveSnnError(f"--duration must be positive, got {args.duration}")
    sources = [args.source] if isinstance(args.source, str) else list(args.source)
    if len(sources) > 1:
        from live_snn.cli.run_streams import run_streams

        args.source = sources
        return run_streams(args)
    args.source = sources[0]
    if getattr(args, "jsonl_dir", None) is not None:
        if args.jsonl is not None:
            raise LiveSnnError("--jsonl and --jsonl-dir name the same output: give one")
        from live_snn.cli.run_streams import jsonl_paths, prepare_jsonl_dir

        prepare_jsonl_dir(args.jsonl_dir)
        args.jsonl = jsonl_paths(args.jsonl_dir, [args.source])[0]
    return run_one(args)


def run_one(args: argparse.Namespace) -> int:
    from live_snn.engine.engine import Engine
    from live_snn.sinks.jsonl import PredictionWriter

    # Before a camera is opened or a model loaded, and not only once the run is over.
    check_run_outputs(args)
    set_torch_threads(args.threads)
    engine = Engine(engine_config_from_args(args, speed=args.speed))
    writer = None
    try:
        engine.open(args.source)
        engine.load_model(args.model)
        info = engine.session_info()
        if info.is_live and args.speed not in (None, 1.0):
            print(f"live-snn run: --speed is ignored for the live source {info.source_description}",
                  file=sys.stderr)
        print(describe_session(info), file=sys.stderr)
        if args.jsonl is not None:
            writer = PredictionWriter(args.jsonl, info, include_taps=args.taps)
            engine.subscribe(writer.write)
        engine.subscribe_status(lambda event: print_event(event, sys.stderr))
        interrupted = LiveLine(engine, sys.stderr, quiet=args.quiet).run(args.duration)
        engine.stop()
        stats = engine.stats()
    finally:
        engine.close()
        if writer is not None:
            writer.close()
    print(format_summary(stats), file=sys.stdout)
    if writer is not None:
        print(f"predictions: {writer.lines} bins written to {writer.path}", file=sys.stdout)
    if args.summary_json is not None:
        write_summary_json(args.summary_json, stats, info)
    if interrupted:
        print("live-snn run: interrupted", file=sys.stderr)
        return 130
    if stats.state == "failed" and isinstance(engine.error, LiveSnnError):
        raise engine.error
    if stats.state == "failed":
        print(f"live-snn run: failed: {stats.error}", file=sys.stderr)
        return 1
    if stats.error:
        print(f"live-snn run: ended early: {stats.error}", file=sys.stderr)
        return 1
    return 0


def check_run_outputs(args: argparse.Namespace) -> None:
    """--jsonl and --summary-json: writable, distinct, and never the source or the model."""
    check_outputs(
        [named("--jsonl", args.jsonl), named("--summary-json", args.summary_json)],
        inputs=[named("the source", args.source), named("the model", args.model)],
        overwrite=getattr(args, "overwrite", False),
    )


def describe_session(info) -> str:
    span = ""
    if info.start_us is not None:
        span = f", {(info.end_us - info.start_us) / 1e6:.2f} s, {info.num_bins} bins"
    return (f"source: {info.source_description}{span}\n"
            f"binning: dt {info.dt_us / 1000:g} ms, {info.mapping.describe()}\n"
            f"model: {info.model_sha256[:12]} ({len(info.class_names)} classes, "
            f"{'streaming' if info.streams_by_step else f'window T={info.window_steps}'}) "
            f"on {info.device}{conv_dtype_note(info)}"
            + f"\npredictor: {info.predictor.smoothing_words()}"
            + (f", uncertain below confidence {info.uncertain_below:g}"
               if info.uncertain_below > 0 else "")
            + (f"\nnote: {info.uncertain_note}" if info.uncertain_note else ""))


class LiveLine(StatusLine):
    """Redraws one status line (a terminal) or prints one now and then (a log)."""

    def draw(self) -> None:
        latest = self.engine.latest(1)
        if not latest:
            return
        p = latest[0]
        s = self.engine.stats()
        label = "uncertain" if p.uncertain else p.label_name
        b2p = s.latency["bin_to_prediction"]
        line = (f"bin {p.bin:6d}  {label:>24.24s} {p.confidence:5.2f}{' *' if p.onset else '  '}"
                f"  {s.steps_per_s:6.1f} steps/s  rtf {s.realtime_factor:5.2f}"
                f"  latency p50 {b2p.p50:5.1f} p99 {b2p.p99:5.1f} ms  skipped {s.bins_skipped}")
        self.show(line)


def format_summary(stats) -> str:
    dropped = ", ".join(f"{k} {v}" for k, v in sorted(stats.events_dropped.items())) or "none"
    lines = [
        f"state: {stats.state}",
        f"events: {stats.events_in} in, {stats.events_dropped_total} dropped ({dropped})",
        f"bins: {stats.bins} predicted, {stats.bins_skipped} skipped",
        f"speed: {stats.steps_per_s:.1f} steps/s, real-time factor {stats.realtime_factor:.2f} "
        f"({stats.wall_s:.2f} s wall)",
    ]
    if stats.reconnects or stats.resets:
        lines.append(f"reconnects: {stats.reconnects}, state resets: {stats.resets}")
    lines.append("latency (ms)          p50      p95      p99      max")
    for stage, summary in stats.latency.items():
        lines.append(f"  {stage:<18s}" + "".join(
            f"{v:9.2f}" for v in (summary.p50, summary.p95, summary.p99, summary.max)))
    return "\n".join(lines)


def write_summary_json(path: Path, stats, info=None) -> None:
    write_text_atomic(path, json.dumps(summary_record(stats, info), indent=2) + "\n",
                      "summary")
