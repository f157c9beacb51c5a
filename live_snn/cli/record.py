"""``live-snn record SOURCE OUT.aedat4``: record events from any source and verify them."""

from __future__ import annotations

import argparse
import dataclasses

from live_snn.cli.signals import StopSignals


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "record",
        help="record a source (camera, network, sim, file) to AEDAT4",
        description="Record the events of SOURCE to OUT.aedat4, then read the file back and "
        "check that every event arrived (count and checksum).",
    )
    parser.add_argument(
        "source", nargs="?",
        help="camera, camera:SERIAL, tcp://HOST:PORT, a socket, sim:, or a file",
    )
    parser.add_argument("out", nargs="?", help="output file (.aedat4)")
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument("--overwrite", "--force", dest="overwrite", action="store_true",
                        help="replace OUT if it exists")
    parser.add_argument("--recover", metavar="PARTIAL",
                        help="turn NAME.partial.aedat4, left by a recording that did not end "
                        "normally, into NAME.aedat4 (every event before any damage is kept)")
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
    parser.add_argument("--allow-remap", action="store_true",
                        help="with --predictions: run the model on a sensor it was not "
                        "trained on")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from live_snn.sinks.recording import RecordingError, check_target, record, recover
    from live_snn.sources import open_source

    if args.recover is not None:
        if args.source is not None:
            raise RecordingError("--recover PARTIAL takes no SOURCE or OUT")
        return _report(recover(args.recover, force=args.overwrite), recovered=True)
    if args.source is None or args.out is None:
        raise RecordingError("record needs SOURCE and OUT (or --recover PARTIAL)")
    if args.duration is not None and args.duration <= 0:
        raise RecordingError(f"--duration must be positive, got {args.duration}")
    # before opening a camera or connecting
    check_target(args.out, args.overwrite, source=args.source)
    sidecar = None
    if args.predictions:
        from live_snn.sinks.sidecar import check_sidecar_target

        check_sidecar_target(args.out, args.overwrite)
    with StopSignals("live-snn record") as stop, \
            open_source(args.source, speed=args.speed) as source:
        if args.predictions:
            sidecar = _start_predictions(source, args)
        print(f"recording {source.description} to {args.out} (Ctrl-C to stop)", flush=True)
        try:
            result = record(source, args.out, duration_s=args.duration, force=args.overwrite,
                            on_batch=None if sidecar is None else sidecar.on_batch,
                            on_finishing=stop.hold)
        finally:
            if sidecar is not None:
                _finish_predictions(sidecar)
    if stop.received == "SIGTERM" and result.end_reason == "interrupted":
        result = dataclasses.replace(result, end_reason="terminated (SIGTERM)")
    return _report(result)


def _report(result, *, recovered: bool = False) -> int:
    span = (
        f", {(result.last_us - result.first_us) / 1e6:.3f} s of events"
        if result.first_us is not None
        else ""
    )
    if recovered:
        print(f"recovered: {result.end_reason}")
    else:
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
    return 1 if result.end_reason.startswith("source error") and not recovered else 0


def _start_predictions(source, args: argparse.Namespace):
    from live_snn.engine.config import EngineConfig
    from live_snn.sinks.sidecar import PredictionSidecar

    return PredictionSidecar(source, args.out, model=args.model,
                             config=EngineConfig(device=args.device,
                                                 allow_remap=args.allow_remap))


def _finish_predictions(sidecar) -> None:
    stats = sidecar.finish()
    print(f"predictions: {sidecar.writer.lines} bins ({stats.bins_skipped} skipped) written to "
          f"{sidecar.path}")
