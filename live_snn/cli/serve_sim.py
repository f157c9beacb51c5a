"""``live-snn serve-sim ADDRESS [ADDRESS ...]``: serve the live gesture simulator over the DV
network protocol (TCP or a local socket) until Ctrl-C or ``--duration``.

Several addresses (or ``--cameras N`` from one) serve several virtual cameras, each its own
person (seed ``--seed`` + k for camera k) in a process of its own, so that the cameras'
simulations run side by side: a test bench for ``live-snn run tcp://... tcp://...``."""

from __future__ import annotations

import argparse
import faulthandler
import multiprocessing
import signal
import sys
from dataclasses import dataclass, replace

from live_snn.errors import LiveSnnError
from live_snn.pacing import check_speed
from live_snn.sim.options import gesture_choices, parse_gesture_classes, parse_resolution


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "serve-sim",
        help="serve the gesture simulator over the DV network protocol",
        description=(
            "Serve an endless simulated gesture session as a DV event stream (dv-processing "
            "NetworkWriter), readable by `live-snn run tcp://HOST:PORT`, DV or any NetworkReader. "
            "Several addresses, or --cameras N, serve several virtual cameras, each its own "
            "person (seed + k for camera k), each in a process of its own."
        ),
    )
    parser.add_argument("address", nargs="+",
                        help="tcp://HOST:PORT (e.g. tcp://127.0.0.1:7777) or a socket path; "
                             "several: one camera each")
    parser.add_argument("--cameras", type=int, default=None, metavar="N",
                        help="serve N cameras from one address: consecutive ports (or "
                             "socket paths NAME-2.sock, ...)")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed (default 0); camera k gets seed + k")
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


@dataclass(frozen=True)
class Camera:
    """One virtual camera to serve: where, and which simulated person."""

    address: str
    seed: int
    session: int
    duration_s: float | None
    speed: float
    resolution: str
    classes: tuple[int, ...] | None
    chunk_ms: float
    linger_s: float


def run(args: argparse.Namespace) -> int:
    from live_snn.sinks.serve import camera_addresses, parse_serve_address

    check_speed(args.speed, what="--speed", fastest=None)
    if args.duration is not None and not args.duration > 0:
        raise LiveSnnError(f"--duration must be > 0, got {args.duration}")
    if not args.chunk_ms > 0:
        raise LiveSnnError(f"--chunk-ms must be > 0, got {args.chunk_ms}")
    addresses = [parse_serve_address(text) for text in args.address]
    if args.cameras is not None:
        if len(addresses) > 1:
            raise LiveSnnError("--cameras N counts cameras from one address; with several "
                               "addresses each is one camera already")
        addresses = camera_addresses(addresses[0], args.cameras)
    if len({str(a) for a in addresses}) < len(addresses):
        raise LiveSnnError(f"each camera needs its own address, got {args.address}")
    parse_resolution(args.resolution)  # one clear line here, not one per camera
    classes = tuple(parse_gesture_classes(args.classes)) if args.classes else None
    cameras = [Camera(str(address), args.seed + k, args.session, args.duration, args.speed,
                      args.resolution, classes, args.chunk_ms, args.linger)
               for k, address in enumerate(addresses)]
    if len(cameras) == 1:
        return serve_camera(cameras[0])
    return serve_cameras(cameras)


def say(line: str, stream=None) -> None:
    """Write one whole line in one write: the cameras share the server's stdout and stderr,
    and ``print`` writes a line's text and its newline separately when Python's output is
    unbuffered (PYTHONUNBUFFERED, as under CI), so two cameras' lines could interleave
    ("serving A…serving B…\n\n") and a reader counting lines would wait forever for one."""
    stream = sys.stdout if stream is None else stream
    stream.write(line + "\n")
    stream.flush()


def serve_camera(camera: Camera, *, name_address: bool = False, stop=None) -> int:
    """Serve one virtual camera in this process until its end, Ctrl-C or ``stop`` (an event
    set by another process); prints what it served (and where, with ``name_address``: one of
    several cameras)."""
    from live_snn.sim import SimConfig
    from live_snn.sinks.serve import parse_serve_address, serve_simulator
    from live_snn.sources.sim import SimulatorSource

    address = parse_serve_address(camera.address)
    config = replace(SimConfig(), seed=camera.seed,
                     resolution=parse_resolution(camera.resolution))
    source = SimulatorSource(
        config,
        speed=camera.speed,
        chunk_us=max(1, int(round(camera.chunk_ms * 1000))),
        classes=None if camera.classes is None else list(camera.classes),
        session=camera.session,
    )

    def ready() -> None:
        until = f"for {camera.duration_s:g} s" if camera.duration_s else "until Ctrl-C"
        say(f"serving {source.description} on {address} {until}")

    stats = serve_simulator(source, address, duration_s=camera.duration_s, on_ready=ready,
                            linger_s=camera.linger_s, stop=stop)
    interrupted = stats.interrupted or (stop is not None and stop.is_set())
    say(
        f"served {stats.events} events in {stats.batches} packets, {stats.simulated_s:.1f} s simulated "
        f"in {stats.wall_s:.1f} s, up to {stats.max_clients} client(s)"
        + (f" on {address}" if name_address else "")
        + (" (interrupted)" if interrupted else "")
    )
    if stats.clients_left:
        say(f"{stats.clients_left} client(s) were still connected; their streams ended")
    return 0


def _camera_process(camera: Camera, stop) -> None:
    """A camera's own process. It ignores Ctrl-C (inherited from :func:`serve_cameras`):
    its parent sets ``stop``. One clear line on error; the exit code says how it ended.
    SIGUSR1 prints where each of its threads is, on stderr (a camera that never starts)."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        code = serve_camera(camera, name_address=True, stop=stop)
    except LiveSnnError as exc:
        say(f"live-snn serve-sim: error: {camera.address}: {exc}", sys.stderr)
        code = 2
    sys.exit(code)


def serve_cameras(cameras: list[Camera]) -> int:
    """Each camera in its own process (a simulator takes most of a core at real time).

    This process alone decides when they stop, so that they all stop together: on Ctrl-C or
    SIGTERM (whether the terminal's Ctrl-C reached the whole process group or a supervisor
    signalled this process only), and when one camera fails (a busy port, say), since a test
    bench missing a camera is not the bench that was asked for. Each camera finishes its
    stream. The exit code is 130 when interrupted, else the worst camera's. SIGUSR1 to the
    process group prints where every thread of every camera is, on stderr."""
    from multiprocessing.connection import wait

    from live_snn.cli.signals import StopSignals

    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    address_of = {context.Process(target=_camera_process, args=(camera, stop),
                                  name=f"serve-sim {camera.address}"): camera.address
                  for camera in cameras}
    processes = list(address_of)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the cameras
    try:
        for process in processes:
            process.start()
    finally:
        signal.signal(signal.SIGINT, previous)
    interrupted = False
    with StopSignals("live-snn serve-sim") as signals:
        try:
            running = list(processes)
            while running:
                wait([process.sentinel for process in running])
                for process in [p for p in running if p.exitcode is not None]:
                    running.remove(process)
                    if process.exitcode != 0 and not stop.is_set():
                        say(f"live-snn serve-sim: {address_of[process]} failed; stopping the "
                            f"other cameras", sys.stderr)
                        stop.set()
        except KeyboardInterrupt:
            interrupted = True
            signals.hold()
            stop.set()
            for process in processes:
                process.join()
    codes = [process.exitcode or 0 for process in processes]
    return 130 if interrupted else max(codes)
