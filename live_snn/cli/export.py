"""``live-snn export SOURCE``: replay a recording through a model at full speed and write an
annotated video and/or the per-step data (probabilities, attention gates, spike rates) as
one ``.npz`` (keys in docs/export.md)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from live_snn.cli.engine_options import add_engine_arguments, engine_config_from_args


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds (e.g. 1.5), got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export",
        help="export an annotated video and per-step attention data",
        description="Replay the recording SOURCE through a model as fast as possible and write "
                    "an annotated video (--video) and/or every step's probabilities, attention "
                    "gates and spike rates as one .npz (--data; keys in docs/export.md). "
                    "--from/--to are seconds after the recording's first event; the model "
                    "state at --from equals that of uninterrupted playback.",
    )
    parser.add_argument("source", metavar="SOURCE", help="a recording, e.g. session.aedat4")
    add_engine_arguments(parser, live=False)
    parser.add_argument("--video", type=Path, metavar="OUT.mp4",
                        help="annotated video (.mp4, .m4v, .mov, .mkv or .avi)")
    parser.add_argument("--data", type=Path, metavar="OUT.npz", help="per-step data")
    parser.add_argument("--from", dest="start_s", type=seconds, metavar="T0",
                        help="first second to export (default: the start)")
    parser.add_argument("--to", dest="end_s", type=seconds, metavar="T1",
                        help="export up to this second, exclusive (default: the end)")
    parser.add_argument("--playback-speed", type=positive, default=1.0, metavar="X",
                        help="video plays at X times real time: frame rate X / dt (default 1)")
    parser.add_argument("--gate-layer", metavar="NAME",
                        help="attention layer shown in the gate strip (default: the last one)")
    parser.add_argument("--view", choices=("model", "sensor"), default="model",
                        help="draw the events as the model saw them (default) or at sensor "
                             "resolution")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from live_snn.export.exporter import ExportConfig, export

    config = ExportConfig(
        source=args.source,
        model=args.model,
        video=args.video,
        data=args.data,
        start_s=args.start_s,
        end_s=args.end_s,
        playback_speed=args.playback_speed,
        gate_layer=args.gate_layer,
        view=args.view,
        engine=engine_config_from_args(args, speed=None),
        progress=not args.no_progress,
    )
    result = export(config)
    if result.uncertain_note:
        print(f"note: {result.uncertain_note}", file=sys.stderr)
    print(f"exported bins {result.first_bin}..{result.last_bin} ({result.bins} bins, "
          f"{result.t_start_s:.3f}-{result.t_end_s:.3f} s) in {result.wall_s:.1f} s")
    if result.video is not None:
        width, height = result.frame_size
        print(f"video: {result.video} ({result.bins} frames, {width}x{height}, "
              f"{result.fps:g} fps, codec {result.codec}, gate strip: "
              f"{result.gate_layer or 'none'})")
    if result.data is not None:
        print(f"data: {result.data}")
    if result.error is not None:
        print(f"live-snn export: ended early: {result.error}", file=sys.stderr)
        return 1
    return 0
