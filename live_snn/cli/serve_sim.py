"""``live-snn serve-sim ADDRESS``: serve the live gesture simulator over the DV network
protocol (TCP or a local socket) until Ctrl-C or ``--duration``."""

from __future__ import annotations

import argparse
from dataclasses import replace

from live_snn.errors import LiveSnnError
from live_snn.pacing import check_speed
from live_snn.sim.options import gesture_choices, parse_gesture_classes, parse_resolution


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "serve-sim",
        help="serve the gesture simulator over the DV network protocol",
        description=(
            "Serve an endless simulated gesture session as a DV event stream (dv-processing "
            "NetworkWriter), readable by `live-snn run tcp://HOST:PORT`, DV or any NetworkReader."
        ),
    )
    parser.add_argument("address", help="tcp://HOST:PORT (e.g. tcp://127.0.0.1:7777) or a socket path")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--session", type=int, default=0, help="session index under the seed (default 0)")
    parser.add_argument("--duration", type=float, default=None, metavar="S",
                        help="stop after S simulated seconds (default: until Ctrl-C)")
    parser.add_argument("--speed", type=float, default=1.0, help="x times real time (default 1)")
    parser.add_argument("--resolution", default="128x128", help="sensor WIDTHxHEIGHT (default 128x128)")
    parser.add_argument("--classes", nargs="+", default=None, metavar="CLASS",
                        help=f"only these gestures; numbers or names: {gesture_choices()}")
    parser.add_argument("--chunk-ms", type=float, default=10.0, help="milliseconds per packet (default 10)")
    parser.add_argument("--linger", type=float, default=2.0, metavar="S",
                        help="at the end, wait up to S seconds for clients to disconnect (default 2)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from live_snn.sim import SimConfig
    from live_snn.sinks.serve import parse_serve_address, serve_simulator
    from live_snn.sources.sim import SimulatorSource

    check_speed(args.speed, what="--speed", fastest=None)
    if args.duration is not None and not args.duration > 0:
        raise LiveSnnError(f"--duration must be > 0, got {args.duration}")
    if not args.chunk_ms > 0:
        raise LiveSnnError(f"--chunk-ms must be > 0, got {args.chunk_ms}")
    address = parse_serve_address(args.address)
    classes = parse_gesture_classes(args.classes) if args.classes else None
    config = replace(SimConfig(), seed=args.seed, resolution=parse_resolution(args.resolution))
    source = SimulatorSource(
        config,
        speed=args.speed,
        chunk_us=max(1, int(round(args.chunk_ms * 1000))),
        classes=classes,
        session=args.session,
    )

    def ready() -> None:
        until = f"for {args.duration:g} s" if args.duration else "until Ctrl-C"
        print(f"serving {source.description} on {address} {until}", flush=True)

    stats = serve_simulator(source, address, duration_s=args.duration, on_ready=ready, linger_s=args.linger)
    print(
        f"served {stats.events} events in {stats.batches} packets, {stats.simulated_s:.1f} s simulated "
        f"in {stats.wall_s:.1f} s, up to {stats.max_clients} client(s)"
        + (" (interrupted)" if stats.interrupted else ""),
        flush=True,
    )
    if stats.clients_left:
        print(f"{stats.clients_left} client(s) were still connected; their streams ended", flush=True)
    return 0
