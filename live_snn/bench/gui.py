"""``live-snn bench gui``: what the window costs the engine, and whether it keeps its redraw
rate. The densest shared recording (events per second) is replayed in a loop, side by side
in one run:

* headless: the engine alone, with the GUI's engine settings (sensor frames and taps kept),
  as fast as possible, a subscriber only counting predictions;
* GUI, max speed: the same engine driven by the real window (offscreen when there is no
  display), every panel visible;
* GUI, 1×: the window replaying at real time.

Reported: engine steps/s and real-time factor (data time / wall time), redraws/s, and the
time one redraw takes. Targets (issue 5): the GUI costs the engine ≤ 20 % of its throughput
and holds ≥ 25 redraws/s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live_snn.errors import LiveSnnError, SourceError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RECORDINGS = REPO_ROOT.parent / "shared" / "data" / "recordings"
TARGET_GUI_COST = 0.20
TARGET_REDRAWS_PER_S = 25.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recording", type=Path, default=None,
                        help="recording to replay (default: the densest in --recordings)")
    parser.add_argument("--recordings", type=Path, default=DEFAULT_RECORDINGS,
                        help=f"folder searched for the densest recording (default "
                        f"{DEFAULT_RECORDINGS})")
    parser.add_argument("--model", type=Path, default=None,
                        help="checkpoint (default: the bundled model, else random lite weights)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="wall seconds per measurement (default 10)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    parser.add_argument("--write-docs", action="store_true",
                        help="write the results into docs/benchmarks.md")


@dataclass(frozen=True)
class Measurement:
    name: str
    speed: str
    wall_s: float
    steps: int
    dt_us: int
    redraws: int | None = None
    redraw_ms: np.ndarray | None = None

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.wall_s

    @property
    def realtime_factor(self) -> float:
        return self.steps * self.dt_us / 1e6 / self.wall_s

    @property
    def redraws_per_s(self) -> float | None:
        return None if self.redraws is None else self.redraws / self.wall_s


def densest_recording(folder: Path) -> tuple[Path, float]:
    """The recording with the most events per second of its own duration."""
    from live_snn.sources import open_source

    paths = sorted(folder.glob("*.aedat4")) if folder.is_dir() else []
    if not paths:
        raise SourceError(f"no .aedat4 recordings in {folder} (pass --recordings or --recording)")
    best: tuple[Path, float] | None = None
    for path in paths:
        with open_source(str(path)) as source:
            events = sum(len(batch) for batch in source)
            duration_s = max(source.end_us - source.start_us, 1) / 1e6
        rate = events / duration_s
        if best is None or rate > best[1]:
            best = (path, rate)
    return best


def _model_path(requested: Path | None, workdir: Path) -> tuple[Path, str]:
    from live_snn.engine.engine import DEFAULT_MODEL_PATH

    if requested is not None:
        return requested, requested.name
    if DEFAULT_MODEL_PATH.is_file():
        return DEFAULT_MODEL_PATH, f"bundled {DEFAULT_MODEL_PATH.name}"
    import torch

    from live_snn.binning import BinningConfig
    from live_snn.classes import DVS_GESTURE_CLASSES
    from live_snn.model import ModelConfig, build_model, save_checkpoint

    torch.manual_seed(0)
    model = build_model(ModelConfig(preset="lite"))
    path = workdir / "random_lite.safetensors"
    save_checkpoint(path, model, binning=BinningConfig(dt_us=10_000, sensor=(128, 128),
                                                       model=(64, 64)),
                    class_names=DVS_GESTURE_CLASSES)
    return path, "random-weights lite model (no bundled model yet), 10 ms bins"


def measure_headless(recording: Path, model: Path, config, seconds: float) -> Measurement:
    """The engine alone, looping the recording, a subscriber that only counts."""
    from live_snn.engine.engine import Engine

    engine = Engine(config)
    engine.open(str(recording))
    engine.load_model(str(model))
    info = engine.session_info()
    count = [0]
    engine.subscribe(lambda _p: count.__setitem__(0, count[0] + 1))
    engine.start()
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        if engine.state == "finished":
            engine.seek(info.start_us)  # keep replaying: the mode stays "running"
        time.sleep(0.005)
    wall = time.perf_counter() - start
    steps = count[0]
    engine.close()
    speed = "max" if config.speed is None else f"{config.speed:g}×"
    return Measurement("headless engine", speed, wall, steps, info.dt_us)


def measure_gui(recording: Path, model: Path, config, seconds: float) -> Measurement:
    """The real window on the same engine settings; redraws timed one by one."""
    from live_snn_ui.app import WINDOW_SIZE, create_app
    from live_snn_ui.engine_bridge import EngineBridge
    from live_snn_ui.window import MainWindow
    from PySide6.QtCore import QEventLoop, QTimer

    app = create_app()
    bridge = EngineBridge(config)
    window = MainWindow(bridge)
    window.resize(*WINDOW_SIZE)
    window.event_view.decay_box.setChecked(True)  # the heaviest event view
    window.show()
    errors: list[str] = []
    bridge.errorRaised.connect(errors.append)
    bridge.open_session(str(recording), str(model))
    loop = QEventLoop()
    deadline = time.perf_counter() + 60.0
    while bridge.session is None and not errors and time.perf_counter() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    if bridge.session is None:
        bridge.close()
        raise LiveSnnError(f"the window could not open {recording}: {errors or 'timeout'}")
    session = bridge.session
    timings: list[float] = []
    original = window.refresh

    def timed_refresh() -> None:
        t0 = time.perf_counter()
        original()
        timings.append((time.perf_counter() - t0) * 1e3)

    window.refresh = timed_refresh
    steps = [0]
    bridge.stepsArrived.connect(lambda n: steps.__setitem__(0, steps[0] + n))
    bridge.stateChanged.connect(lambda s: bridge.play() if s == "finished" else None)
    # Measure from a steady state: skip the first half second (engine start, first draws).
    QTimer.singleShot(500, loop.quit)
    loop.exec()
    steps[0] = 0
    timings.clear()
    redraws0 = window.redraws
    start = time.perf_counter()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    wall = time.perf_counter() - start
    redraws = window.redraws - redraws0
    window.close()
    bridge.close()
    app.processEvents()
    if errors:
        raise LiveSnnError(f"the window reported errors during the run: {errors}")
    speed = "max" if config.speed is None else f"{config.speed:g}×"
    return Measurement("GUI (window + engine)", speed, wall, steps[0], session.dt_us, redraws,
                       np.asarray(timings))


def _table(rows: list[Measurement]) -> str:
    lines = [
        "| run | speed | wall s | steps | steps/s | real-time factor | redraws/s | redraw ms p50 / p95 |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in rows:
        redraws = "–" if m.redraws_per_s is None else f"{m.redraws_per_s:.1f}"
        if m.redraw_ms is not None and m.redraw_ms.size:
            p50, p95 = np.percentile(m.redraw_ms, [50, 95])
            redraw = f"{p50:.1f} / {p95:.1f}"
        else:
            redraw = "–"
        lines.append(f"| {m.name} | {m.speed} | {m.wall_s:.1f} | {m.steps} | "
                     f"{m.steps_per_s:.0f} | {m.realtime_factor:.2f} | {redraws} | {redraw} |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
            or os.environ.get("QT_QPA_PLATFORM")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from live_snn.bench.report import machine_description, write_section
    from live_snn.engine.engine import EngineConfig

    if args.recording is not None:
        recording, rate = args.recording, None
    else:
        recording, rate = densest_recording(args.recordings)
    with tempfile.TemporaryDirectory() as workdir:
        model, model_note = _model_path(args.model, Path(workdir))
        gui_like = EngineConfig(device=args.device, speed=None, keep_sensor_frames=True)
        headless = measure_headless(recording, model, gui_like, args.seconds)
        gui_max = measure_gui(recording, model, gui_like, args.seconds)
        realtime = EngineConfig(device=args.device, speed=1.0, keep_sensor_frames=True)
        gui_1x = measure_gui(recording, model, realtime, args.seconds)
    rows = [headless, gui_max, gui_1x]
    cost = 1.0 - gui_max.steps_per_s / headless.steps_per_s
    slowest_redraws = min(gui_max.redraws_per_s, gui_1x.redraws_per_s)
    verdict_cost = "meets" if cost <= TARGET_GUI_COST else "misses"
    verdict_redraw = "meets" if slowest_redraws >= TARGET_REDRAWS_PER_S else "misses"
    source_note = f"`{recording.name}`" + (f" ({rate / 1e3:.0f} k events/s, the densest shared "
                                           f"recording)" if rate is not None else "")
    markdown = "\n".join([
        f"Machine: {machine_description()}.",
        "",
        f"Replay of {source_note}, looped; model: {model_note}; the window offscreen at "
        f"1600×960, all panels visible, event trail on. {args.seconds:g} s per run, in one "
        "process, one after the other.",
        "",
        _table(rows),
        "",
        f"GUI cost to the engine at max speed: **{cost:.0%}** of its steps/s (target ≤ "
        f"{TARGET_GUI_COST:.0%}: {verdict_cost}). Redraw rate: **{slowest_redraws:.1f}/s** at "
        f"worst (target ≥ {TARGET_REDRAWS_PER_S:g}: {verdict_redraw}).",
    ])
    print(markdown)
    if args.write_docs:
        print(f"wrote {write_section('gui', markdown)}")
    return 0
