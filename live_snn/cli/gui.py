"""``live-snn gui [SOURCE] [--model CKPT]``: open the desktop window.

Only parses arguments here: Qt (``live_snn_ui``) is imported when the window opens, so the
rest of the CLI works without PySide6. Without a display (no DISPLAY / WAYLAND_DISPLAY and no
QT_QPA_PLATFORM) and without ``--screenshot``, it falls back to the headless ``live-snn run``
on the same source and model, and says so.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_RECORDINGS = REPO_ROOT / "recordings"
DEMO_PREFIX = "demo"


def register(sub: argparse._SubParsersAction) -> None:
    from live_snn.cli.engine_options import add_engine_arguments, add_speed_argument

    parser = sub.add_parser(
        "gui",
        help="open the desktop window",
        description="Open the live_snn window on SOURCE (default: the bundled demo recording) "
        "with a model (default: the bundled model). Without a display, runs headless as "
        "`live-snn run` instead.",
    )
    parser.add_argument("source", nargs="?", default=None, metavar="SOURCE",
                        help="recording file, camera[:SERIAL], tcp://host:port, socket path or "
                        "sim:[options] (default: the bundled demo recording)")
    add_engine_arguments(parser)
    add_speed_argument(parser)
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="torch CPU threads (default: torch's choice; on a small CPU, 1 "
                        "leaves a core to the window)")
    parser.add_argument("--paused", action="store_true", help="open paused at the first bin")
    parser.add_argument("--screenshot", type=Path, default=None, metavar="FILE.png",
                        help="save a screenshot of the window, then quit (works without a display)")
    parser.add_argument("--quit-after", type=float, default=None, metavar="SECONDS",
                        help="quit this many seconds after the session opened (with "
                        "--screenshot: when to take it; default 5)")
    parser.set_defaults(func=run)


def recording_candidates() -> list[Path]:
    """Recordings ``live-snn gui`` may open with no SOURCE: the bundled ones first, else the
    shared data folder's (newest first)."""
    bundled = sorted(BUNDLED_RECORDINGS.glob("*.aedat4"))
    if bundled:
        demos = [p for p in bundled if p.name.startswith(DEMO_PREFIX)]
        return demos + [p for p in bundled if p not in demos]
    shared = Path(os.environ.get("LIVE_SNN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
    found = list((shared / "recordings").glob("*.aedat4"))
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def resolve_defaults(source: str | None, model: str | None) -> tuple[str | None, str | None, list[str]]:
    """Fill in the default source and model; return them with notes for the user."""
    notes: list[str] = []
    if source is None:
        candidates = recording_candidates()
        if candidates:
            source = str(candidates[0])
            if candidates[0].parent != BUNDLED_RECORDINGS:
                notes.append(f"no bundled recording in {BUNDLED_RECORDINGS}; opening the newest "
                             f"one found: {candidates[0]}")
        else:
            notes.append(f"no recording given and none found in {BUNDLED_RECORDINGS}: open one "
                         "from the Open menu")
    if model is None:
        from live_snn.engine.session import DEFAULT_MODEL_PATH

        if DEFAULT_MODEL_PATH.is_file():
            model = str(DEFAULT_MODEL_PATH)
        else:
            notes.append(f"no model given and no bundled model at {DEFAULT_MODEL_PATH}: load a "
                         "checkpoint with “Load model…” or --model")
    elif not Path(model).is_file():
        from live_snn.errors import CheckpointError

        raise CheckpointError(f"checkpoint not found: {model}")
    return source, model, notes


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM"))


def headless_fallback(args: argparse.Namespace, source: str | None, model: str | None) -> int:
    print("live-snn gui: no display (DISPLAY / WAYLAND_DISPLAY unset): running headless "
          "instead, as `live-snn run`", file=sys.stderr)
    if source is None:
        from live_snn.errors import SourceError

        raise SourceError("no source to run headless: pass a recording, camera, address or sim:")
    from live_snn.cli import run as run_command

    # `run`'s own defaults for its options, overlaid with every option both commands share
    # (engine settings, speed), so the fallback follows `run` as it grows.
    parser = argparse.ArgumentParser(prog="live-snn")
    run_command.register(parser.add_subparsers(dest="command"))
    defaults = vars(parser.parse_args(["run", source]))
    shared = {k: v for k, v in vars(args).items() if k in defaults and k not in ("command", "func")}
    headless = argparse.Namespace(**{**defaults, **shared, "source": source, "model": model})
    return run_command.run(headless)


def run(args: argparse.Namespace) -> int:
    source, model, notes = resolve_defaults(args.source, args.model)
    for note in notes:
        print(f"live-snn gui: {note}", file=sys.stderr)
    if args.screenshot is None and not has_display():
        return headless_fallback(args, source, model)
    if importlib.util.find_spec("PySide6") is None or importlib.util.find_spec("pyqtgraph") is None:
        print("live-snn gui: error: the window needs PySide6 and pyqtgraph; install them with "
              "`pip install 'live-snn[gui]'` (or run headless with `live-snn run`)",
              file=sys.stderr)
        return 1
    if not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # --screenshot without a display
    from live_snn.cli.engine_options import engine_config_from_args, set_torch_threads

    set_torch_threads(args.threads)
    from live_snn_ui.app import GuiOptions, main

    engine = dataclasses.replace(engine_config_from_args(args, speed=args.speed),
                                 record_taps=True)  # the attention and activity panels
    options = GuiOptions(
        source=source,
        model=model,
        engine=engine,
        screenshot=args.screenshot,
        quit_after_s=args.quit_after if args.quit_after is not None
        else (5.0 if args.screenshot is not None else None),
        notice=" · ".join(notes) or None,
        paused=args.paused,
    )
    return main(options)
