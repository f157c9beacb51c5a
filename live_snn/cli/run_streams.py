"""``live-snn run SRC1 SRC2 ...``: several sources through one model, batched
(:class:`~live_snn.engine.multi_engine.MultiStreamEngine`): one combined live line, one JSONL
per stream in ``--jsonl-dir`` (each named after its source), one summary (printed, and
``--summary-json``) with a row per stream and the totals. A stream that drops, ends early or
breaks is reported on its own row; the others go on."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from live_snn.cli.engine_options import engine_config_from_args, set_torch_threads
from live_snn.cli.run_report import (
    StatusLine,
    conv_dtype_note,
    print_event,
    summary_record,
)
from live_snn.errors import LiveSnnError
from live_snn.outputs import OutputError, check_outputs, named, write_text_atomic

LINE_STREAMS = 4   # streams named on the live line (the rest are counted)


def jsonl_paths(folder: Path, specs) -> list[Path]:
    """Where each stream's predictions go: ``folder/NAME.jsonl``, NAME the stream's name."""
    from live_snn.engine.multi_engine import stream_names

    return [folder / f"{name}.jsonl" for name in stream_names(specs)]


def prepare_jsonl_dir(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"--jsonl-dir {folder}: it is a file, expected a folder")
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"--jsonl-dir {folder}: cannot create the folder: "
                          f"{exc.strerror or exc}") from None


def run_streams(args: argparse.Namespace) -> int:
    from live_snn.engine.multi_engine import MultiStreamEngine, stream_names
    from live_snn.sinks.jsonl import PredictionWriter

    if args.jsonl is not None:
        raise LiveSnnError("--jsonl writes one stream's predictions: with several sources "
                           "use --jsonl-dir DIR (one file per stream)")
    specs = list(args.source)
    names = stream_names(specs)
    paths: dict[str, Path] = {}
    if args.jsonl_dir is not None:
        prepare_jsonl_dir(args.jsonl_dir)
        paths = dict(zip(names, jsonl_paths(args.jsonl_dir, specs), strict=True))
    check_outputs(
        [named(f"--jsonl-dir file for {name}", path) for name, path in paths.items()]
        + [named("--summary-json", args.summary_json)],
        inputs=[named(f"source {spec}", spec) for spec in specs] + [named("the model", args.model)],
        overwrite=getattr(args, "overwrite", False),
    )
    set_torch_threads(args.threads)
    engine = MultiStreamEngine(engine_config_from_args(args, speed=args.speed))
    writers: dict[str, PredictionWriter] = {}
    interrupted = False
    try:
        for spec, name in zip(specs, names, strict=True):
            engine.add(spec, name=name)
        engine.load_model(args.model)
        describe_streams(engine, sys.stderr)
        for name, path in paths.items():
            writers[name] = PredictionWriter(path, engine.stream_info(name),
                                             include_taps=args.taps)
        if writers:
            engine.subscribe(lambda name, p: writers[name].write(p))
        engine.subscribe_status(lambda name, event: print_event(event, sys.stderr, name))
        interrupted = StreamsLine(engine, sys.stderr, quiet=args.quiet).run(args.duration)
        engine.stop()
        stats = engine.stats()
    finally:
        engine.close()
        for writer in writers.values():
            writer.close_quietly()
    print(format_streams_summary(stats), file=sys.stdout)
    for name, writer in writers.items():
        print(f"predictions: {writer.lines} bins of {name} written to {writer.path}")
    if args.summary_json is not None:
        write_text_atomic(args.summary_json,
                          json.dumps(streams_summary_record(engine, stats, paths), indent=2)
                          + "\n", "summary")
    if interrupted:
        print("live-snn run: interrupted", file=sys.stderr)
        return 130
    if engine.error is not None:
        if isinstance(engine.error, LiveSnnError):
            raise engine.error
        print(f"live-snn run: failed: {stats.error}", file=sys.stderr)
        return 1
    ended_early = [(name, s.error) for name, s in stats.streams.items() if s.error]
    for name, error in ended_early:
        print(f"live-snn run: {name} ended early: {error}", file=sys.stderr)
    return 1 if ended_early else 0


def describe_streams(engine, stream: TextIO) -> None:
    infos = [engine.stream_info(name) for name in engine.streams]
    first = infos[0]
    for name, info in zip(engine.streams, infos, strict=True):
        print(f"stream {name}: {info.source_description} ({info.mapping.describe()})",
              file=stream)
    print(f"model: {first.model_sha256[:12]} ({len(first.class_names)} classes, dt "
          f"{first.dt_us / 1000:g} ms) on {first.device}{conv_dtype_note(first)}, {len(infos)} "
          f"streams batched; {first.predictor.smoothing_words()}"
          + (f", uncertain below confidence {first.uncertain_below:g}" if first.uncertain_below > 0 else ""),
          file=stream)
    if first.uncertain_note:
        print(f"note: {first.uncertain_note}", file=stream)


class StreamsLine(StatusLine):
    """One status line for all streams: redrawn on a terminal, printed now and then in a
    log (the single-stream line's pacing; only what it draws differs)."""

    def draw(self) -> None:
        stats = self.engine.stats()
        totals = stats.totals()
        states = [s.state for s in stats.streams.values()]
        running = sum(state in ("running", "reconnecting") for state in states)
        b2p = stats.latency["bin_to_prediction"]
        parts = [f"streams {len(states)} ({running} running)",
                 f"bins {totals['bins']:7d} skipped {totals['bins_skipped']}",
                 f"{totals['steps_per_s']:6.1f} bins/s",
                 f"batch {stats.mean_batch:4.1f}",
                 f"p99 {b2p.p99:5.1f} ms"]
        for name in self.engine.streams[:LINE_STREAMS]:
            latest = self.engine.latest(name, 1)
            state = stats.streams[name].state
            if state not in ("running",) or not latest:
                parts.append(f"{name}: {state}")
            else:
                p = latest[0]
                label = "uncertain" if p.uncertain else p.label_name
                parts.append(f"{name}: {label} {p.confidence:.2f}")
        if len(self.engine.streams) > LINE_STREAMS:
            parts.append(f"+{len(self.engine.streams) - LINE_STREAMS} more")
        line = " | ".join(parts)
        self.show(line)


def format_streams_summary(stats) -> str:
    totals = stats.totals()
    header = (f"{'stream':<24s} {'state':<12s} {'events in':>10s} {'bins':>7s} "
              f"{'skipped':>7s} {'rtf':>5s} {'p50 ms':>7s} {'p99 ms':>7s}  ended early")
    lines = [f"streams: {totals['streams']}, {totals['streams_ended_early']} ended early; "
             f"state: {stats.state}", header]
    for name, s in stats.streams.items():
        b2p = s.latency["bin_to_prediction"]
        lines.append(f"{name:<24.24s} {s.state:<12s} {s.events_in:>10d} {s.bins:>7d} "
                     f"{s.bins_skipped:>7d} {s.realtime_factor:>5.2f} {b2p.p50:>7.2f} "
                     f"{b2p.p99:>7.2f}  {s.error or '-'}")
    lines += [
        f"totals: events {totals['events_in']} in, {totals['events_dropped']} dropped; bins "
        f"{totals['bins']} predicted, {totals['bins_skipped']} skipped; reconnects "
        f"{totals['reconnects']}, state resets {totals['resets']}",
        f"batching: {stats.batched_steps} batched steps, {stats.mean_batch:.2f} streams per "
        f"step on average (at most {stats.max_batch}); step per bin p50 "
        f"{stats.step_ms_per_bin.p50:.2f} ms ({stats.wall_s:.2f} s wall)",
        "latency (ms, all streams)  p50      p95      p99      max",
    ]
    for stage, summary in stats.latency.items():
        lines.append(f"  {stage:<18s}" + "".join(
            f"{v:9.2f}" for v in (summary.p50, summary.p95, summary.p99, summary.max)))
    return "\n".join(lines)


def streams_summary_record(engine, stats, paths: dict[str, Path]) -> dict:
    """``--summary-json``: a row per stream (its counters, latencies, what happened to it)
    and the totals over all streams."""
    rows = []
    for name, s in stats.streams.items():
        info = engine.stream_info(name)
        row = {"name": name, **summary_record(s, info),
               "jsonl": str(paths[name]) if name in paths else None,
               "history": [{"kind": e.kind, "message": e.message, "bin": e.bin}
                           for e in engine.history(name)]}
        rows.append(row)
    first = engine.stream_info(engine.streams[0])
    return {"type": "streams", "model_sha256": first.model_sha256, "dt_us": first.dt_us,
            "device": first.device, "conv_dtype": first.conv_dtype, "streams": rows,
            "totals": stats.as_dict()}
