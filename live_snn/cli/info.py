"""``live-snn info FILE``: what a recording holds, or what a model checkpoint is."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "info",
        help="describe a recording (sensor, duration, events, rates, streams) or a model "
             "checkpoint (network, classes, binning, confidence, training, lineage)",
        description="Describe a recording (.aedat4, DVS128 Gesture .aedat, N-MNIST .bin, ...) "
                    "or a model checkpoint (.safetensors).",
    )
    parser.add_argument("file", nargs="+", help="recording(s) or checkpoint(s) to describe")
    parser.add_argument(
        "--window-ms",
        type=float,
        default=10.0,
        help="window for the peak event rate (default 10 ms)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from live_snn.errors import LiveSnnError
    from live_snn.sources.info import recording_info

    if args.window_ms <= 0:
        raise LiveSnnError(f"--window-ms must be positive, got {args.window_ms}")
    for index, path in enumerate(args.file):
        if index and not args.json:
            print()
        if str(path).lower().endswith(".safetensors"):
            _describe_checkpoint(path, as_json=args.json)
            continue
        info = recording_info(path, peak_window_us=int(round(args.window_ms * 1000)))
        if args.json:
            print(json.dumps(info.to_dict()))
            continue
        streams = ", ".join(name for name, present in info.streams.items() if present)
        rows = [
            ("file", info.path),
            ("format", info.format),
            ("sensor", info.sensor),
            ("resolution", str(info.resolution)),
            ("duration", f"{info.duration_us / 1e6:.3f} s"),
            ("events", f"{info.events}"),
            ("mean rate", _rate(info.mean_rate_eps)),
            ("peak rate", f"{_rate(info.peak_rate_eps)} (busiest {args.window_ms:g} ms window)"),
            ("streams", streams),
        ]
        if info.first_us is not None:
            rows.insert(5, ("time range", f"{info.first_us} .. {info.last_us} us"))
        if info.label_segments is not None:
            rows.append(("labels", f"{info.label_segments} segments"))
        for key, value in rows:
            print(f"{key + ':':<12} {value}")
    return 0


def _describe_checkpoint(path: str, *, as_json: bool) -> None:
    from live_snn.model import load_checkpoint
    from live_snn.model.summary import checkpoint_summary, summary_lines

    summary = checkpoint_summary(load_checkpoint(path))
    if as_json:
        print(json.dumps(summary))
        return
    for key, value in summary_lines(summary):
        print(f"{key + ':' if key else '':<12} {value}")


def _rate(events_per_s: float) -> str:
    if events_per_s >= 1e6:
        return f"{events_per_s / 1e6:.2f} Mev/s"
    return f"{events_per_s / 1e3:.1f} kev/s"
