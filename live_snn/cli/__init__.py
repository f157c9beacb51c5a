"""``live-snn`` command line: one small module per sub-command.

Each module in this package exposes ``register(subparsers)``, which adds its parser and sets
``func(args) -> int``. Modules are imported only when their command runs, so ``live-snn info``
does not pay for importing torch or Qt.
"""

from __future__ import annotations

import argparse
import importlib
import os
import select
import sys

from live_snn.errors import LiveSnnError

# command name -> module in live_snn.cli that implements it, with a one-line help.
COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("info", "describe a recording: sensor, duration, events, event rate, streams"),
    "record": ("record", "record a source (camera, network, sim, file) to AEDAT4"),
    "convert": ("convert", "convert a recording to AEDAT4, Prophesee RAW or DAT, ES or CSV"),
    "run": ("run", "run a model on a source headless and print predictions"),
    "gui": ("gui", "open the desktop window"),
    "simulate": ("simulate", "write simulated gesture sessions with labels"),
    "serve-sim": ("serve_sim", "serve the gesture simulator over the DV network protocol"),
    "train": ("train", "train a model (DVS128 Gesture, N-MNIST, simulated gestures)"),
    "teach": ("teach", "record your own gestures and fine-tune a model on them"),
    "eval": ("evaluate", "evaluate a checkpoint: clip and streaming accuracy"),
    "export": ("export", "export an annotated video and per-step attention data"),
    "bench": ("bench", "benchmarks: binning, model, pipeline, streams, gui"),
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="live-snn",
        description="Live DVS gesture recognition with a streaming TCJA spiking network.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    # Register only the command being run (cheap imports); list all for --help.
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in COMMANDS.items():
        if name == wanted:
            importlib.import_module(f"live_snn.cli.{module}").register(sub)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit code. Output piped into a reader that stops early
    (``live-snn info REC | head -5``) ends the command quietly with exit code 1."""
    try:
        code = _run(argv)
        if sys.stdout is not None:  # what is still buffered fails here, not at exit
            sys.stdout.flush()
        return code
    except BrokenPipeError:
        if not _stdout_closed():  # a closed socket or pipe of the command's own: a bug
            raise
        # As the Python docs advise (signal module, "Note on SIGPIPE"): point stdout at
        # devnull so that the flush at exit does not raise again, and exit as Python does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 1


def _run(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LiveSnnError as exc:
        print(f"live-snn {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"live-snn {args.command}: interrupted", file=sys.stderr)
        return 130


def _stdout_closed() -> bool:
    """Whether stdout is a pipe (or socket) whose reader has gone away."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (captured, replaced)
        return False
    if not hasattr(select, "poll"):  # not on Windows: take the error at its word
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
