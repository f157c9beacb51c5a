"""``live-snn record SOURCE OUT.aedat4``: record events from any source and verify them."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "record",
        help="record a source (camera, network, sim, file) to AEDAT4",
        description="Record the events of SOURCE to OUT.aedat4, then read the file back and "
        "check that every event arrived (count and checksum).",
    )
    parser.add_argument(
        "source", help="camera, camera:SERIAL, tcp://HOST:PORT, a socket, sim:, or a file"
    )
    parser.add_argument("out", help="output file (.aedat4)")
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    parser.add_argument(
        "--speed", type=float, help="replay a recorded SOURCE at this speed (0.1-16)"
    )
    parser.add_argument(
        "--predictions", action="store_true",
        help="also run a model on the events and write OUT.predictions.jsonl beside the "
        "recording (model hash, binning, one line per bin; see docs/jsonl.md)",
    )
    parser.add_argument("--model", metavar="CKPT", help="with --predictions: the checkpoint "
                        "(default: the bundled model)")
    parser.add_argument("--device", default="auto", help="with --predictions: auto | cpu | cuda")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from live_snn.sinks.recording import RecordingError, check_target, record
    from live_snn.sources import open_source

    if args.duration is not None and args.duration <= 0:
        raise RecordingError(f"--duration must be positive, got {args.duration}")
    check_target(args.out, args.force)  # before opening a camera or connecting
    sidecar = None
    if args.predictions:
        from live_snn.sinks.sidecar import check_sidecar_target

        check_sidecar_target(args.out, args.force)
    with open_source(args.source, speed=args.speed) as source:
        if args.predictions:
            sidecar = _start_predictions(source, args)
        print(f"recording {source.description} to {args.out} (Ctrl-C to stop)", flush=True)
        try:
            result = record(source, args.out, duration_s=args.duration, force=args.force,
                            on_batch=None if sidecar is None else sidecar.on_batch)
        finally:
            if sidecar is not None:
                _finish_predictions(sidecar)
    span = (
        f", {(result.last_us - result.first_us) / 1e6:.3f} s of events"
        if result.first_us is not None
        else ""
    )
    print(f"stopped: {result.end_reason}")
    print(f"wrote {result.events_written} events{span} to {result.path}")
    if not result.verified:
        print(
            f"error: read back {result.events_read_back} events (checksum "
            f"{result.checksum_read_back}), but {result.events_written} were written "
            f"(checksum {result.checksum_written})"
        )
        return 1
    print(
        f"verified: read back {result.events_read_back} events, checksum {result.checksum_read_back}"
    )
    return 1 if result.end_reason.startswith("source error") else 0


def _start_predictions(source, args: argparse.Namespace):
    from live_snn.engine.config import EngineConfig
    from live_snn.sinks.sidecar import PredictionSidecar

    return PredictionSidecar(source, args.out, model=args.model,
                             config=EngineConfig(device=args.device))


def _finish_predictions(sidecar) -> None:
    stats = sidecar.finish()
    print(f"predictions: {sidecar.writer.lines} bins ({stats.bins_skipped} skipped) written to "
          f"{sidecar.path}")
