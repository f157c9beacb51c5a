"""``live-snn simulate``: write simulated gesture sessions (AEDAT4 + DVS128-Gesture labels)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from live_snn.errors import LiveSnnError
from live_snn.sim.options import gesture_choices, parse_gesture_classes, parse_resolution

# Frames are rendered at sensor resolution (several float32 images per step).
MAX_SIM_SIDE = 2048


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "simulate",
        help="write simulated gesture sessions with labels",
        description=(
            "Write simulated DVS gesture sessions: NAME.aedat4 (events) and NAME_labels.csv "
            "(class,startTime_usec,endTime_usec as in DVS128 Gesture). Session i of seed S is "
            "the same recording on every run."
        ),
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    parser.add_argument("--sessions", type=int, default=1, help="number of sessions (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--first-session", type=int, default=0,
                        help="index of the first session, to extend an earlier run (default 0)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--gestures", type=int, default=None,
                        help="gestures per session, each followed by a rest (default 8)")
    length.add_argument("--duration-s", type=float, default=None,
                        help="session length in seconds instead (whole gestures only)")
    parser.add_argument("--resolution", default="128x128", help="sensor WIDTHxHEIGHT (default 128x128)")
    parser.add_argument("--classes", nargs="+", default=None, metavar="CLASS",
                        help=f"only these gestures; numbers or names: {gesture_choices()}")
    parser.add_argument("--threshold", type=float, default=None, help="DVS contrast threshold (default 0.15)")
    parser.add_argument("--noise-hz", type=float, default=None,
                        help="background-activity noise per pixel, Hz (default 0.2)")
    parser.add_argument("--prefix", default="sim", help="file name prefix (default 'sim')")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files of the same name")
    parser.set_defaults(func=run)


def session_name(prefix: str, seed: int, index: int) -> str:
    return f"{prefix}_seed{seed}_{index:04d}"


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from live_snn.sim import GestureSimulator, SimConfig
    from live_snn.sinks.sim_session import write_session

    if args.sessions < 1:
        raise LiveSnnError(f"--sessions must be at least 1, got {args.sessions}")
    if args.first_session < 0:
        raise LiveSnnError(f"--first-session must be >= 0, got {args.first_session}")
    if args.gestures is not None and args.gestures < 1:
        raise LiveSnnError(f"--gestures must be at least 1, got {args.gestures}")
    if args.duration_s is not None and not args.duration_s > 0:
        raise LiveSnnError(f"--duration-s must be > 0, got {args.duration_s}")
    if not args.prefix or "/" in args.prefix:
        raise LiveSnnError(f"--prefix must be a plain name, got {args.prefix!r}")
    classes = parse_gesture_classes(args.classes) if args.classes else None
    resolution = parse_resolution(args.resolution)
    if max(resolution.width, resolution.height) > MAX_SIM_SIDE:
        raise LiveSnnError(f"--resolution {args.resolution}: the simulator renders every frame "
                           f"at sensor resolution; at most {MAX_SIM_SIDE} pixels a side")
    changes: dict = {"seed": args.seed, "resolution": resolution}
    if args.threshold is not None:
        changes["threshold"] = args.threshold
    if args.noise_hz is not None:
        changes["noise_hz"] = args.noise_hz
    try:
        config = replace(SimConfig(), **changes)
    except ValueError as exc:
        raise LiveSnnError(str(exc)) from exc

    indices = range(args.first_session, args.first_session + args.sessions)
    names = [session_name(args.prefix, args.seed, i) for i in indices]
    if not args.overwrite:
        existing = [
            str(path)
            for name in names
            for path in (args.out / f"{name}.aedat4", args.out / f"{name}_labels.csv")
            if path.exists()
        ]
        if existing:
            raise LiveSnnError(
                f"{len(existing)} output file(s) exist already, e.g. {existing[0]}; "
                f"use --overwrite to replace them or another --out / --seed / --first-session"
            )

    simulator = GestureSimulator(config)
    n_gestures = None if args.duration_s is not None else (args.gestures or 8)
    total_events = total_s = total_gestures = 0
    for index, name in tqdm(list(zip(indices, names, strict=True)), desc="simulating", unit="session"):
        try:
            session = simulator.session(
                n_gestures, duration_s=args.duration_s, classes=classes, index=index
            )
        except ValueError as exc:
            raise LiveSnnError(f"session {name}: {exc}") from exc
        aedat, labels = write_session(session, args.out, name)
        seconds = (session.end_us - session.start_us) / 1e6
        total_events += len(session.events)
        total_s += seconds
        total_gestures += len(session.labels.segments)
        tqdm.write(
            f"wrote {aedat} and {labels.name}: {seconds:.1f} s, {len(session.events)} events, "
            f"{len(session.labels.segments)} gestures"
        )
    print(
        f"{args.sessions} session(s) in {args.out}: {total_s:.1f} s, {total_gestures} gestures, "
        f"{total_events} events, sensor {config.resolution}, seed {args.seed}"
    )
    return 0
