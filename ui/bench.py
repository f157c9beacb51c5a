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

REPO_ROOT = Path(__file__).resolve().parents[1]
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
    parser.add_argument("--repeats", type=int, default=2,
                        help="headless / GUI pairs at max speed, alternated (default 2)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads for every run (default: torch's choice)")
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
    gui_cpu_s: float | None = None     # CPU time of the Qt thread (redraws, painting, drain)

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.wall_s

    @property
    def realtime_factor(self) -> float:
        return self.steps * self.dt_us / 1e6 / self.wall_s

    @property
    def redraws_per_s(self) -> float | None:
        return None if self.redraws is None else self.redraws / self.wall_s

    @property
    def cpu_ms_per_redraw(self) -> float | None:
        if self.gui_cpu_s is None or not self.redraws:
            return None
        return 1e3 * self.gui_cpu_s / self.redraws


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
    from live_snn.engine.session import DEFAULT_MODEL_PATH

    if requested is not None:
        return requested, requested.name
    if DEFAULT_MODEL_PATH.is_file():
        return DEFAULT_MODEL_PATH, f"bundled {DEFAULT_MODEL_PATH.name}"
    from live_snn.bench.active_model import write_active_random_checkpoint

    path = write_active_random_checkpoint(workdir / "random_lite.safetensors", dt_us=10_000)
    return path, ("lite preset with random weights scaled so every layer fires (no bundled "
                  "model yet), 10 ms bins")


WARM_UP_S = 0.5  # engine start and first draws are not measured


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
    seeking = False

    def loop_until(deadline: float) -> None:
        nonlocal seeking
        while time.perf_counter() < deadline:
            state = engine.state
            if state == "finished" and not seeking:
                engine.seek(info.start_us)  # keep replaying: the mode stays "running"
                seeking = True
            elif state != "finished":
                seeking = False
            time.sleep(0.002)

    loop_until(time.perf_counter() + WARM_UP_S)
    count[0] = 0
    start = time.perf_counter()
    loop_until(start + seconds)
    wall = time.perf_counter() - start
    steps = count[0]
    engine.close()
    speed = "max" if config.speed is None else f"{config.speed:g}×"
    return Measurement("headless engine", speed, wall, steps, info.dt_us)


def measure_gui(recording: Path, model: Path, config, seconds: float) -> Measurement:
    """The real window on the same engine settings, looping the recording."""
    from live_snn_ui.app import create_app, garbage_collected_on_gui_thread

    app = create_app()
    with garbage_collected_on_gui_thread():
        return _measure_window(app, recording, model, config, seconds)


def _measure_window(app, recording: Path, model: Path, config, seconds: float) -> Measurement:
    from PySide6.QtCore import QEventLoop, QTimer

    from live_snn_ui.app import WINDOW_SIZE
    from live_snn_ui.engine_bridge import EngineBridge
    from live_snn_ui.window import MainWindow

    bridge = EngineBridge(config)
    window = MainWindow(bridge)
    window.resize(*WINDOW_SIZE)
    window.event_view.decay_box.setChecked(True)  # the heaviest event view
    window.show()
    errors: list[str] = []
    bridge.errorRaised.connect(errors.append)
    bridge.open_session(str(recording), str(model))
    deadline = time.perf_counter() + 60.0
    while bridge.session is None and not errors and time.perf_counter() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    if bridge.session is None:
        bridge.close()
        raise LiveSnnError(f"the window could not open {recording}: {errors or 'timeout'}")
    session = bridge.session
    steps = [0]
    bridge.stepsArrived.connect(lambda n: steps.__setitem__(0, steps[0] + n))
    # Loop the recording as the headless run does, from the engine's own "finished" event:
    # a restart through the window (Play) waits for its next tick, up to 33 ms per loop of a
    # recording that replays in a fraction of a second at max speed, which is engine time
    # lost to the loop, not to the window.
    engine, start_us = bridge.engine, session.start_us
    engine.subscribe_status(lambda e: engine.seek(start_us) if e.kind == "finished" else None)
    loop = QEventLoop()
    QTimer.singleShot(int(WARM_UP_S * 1000), loop.quit)
    loop.exec()
    steps[0] = 0
    redraws0 = window.redraws
    cpu0 = time.thread_time()  # this (Qt) thread only: the engine runs on its own
    start = time.perf_counter()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    wall = time.perf_counter() - start
    gui_cpu = time.thread_time() - cpu0
    redraws = window.redraws - redraws0
    window.close()
    bridge.close()
    app.processEvents()
    if errors:
        raise LiveSnnError(f"the window reported errors during the run: {errors}")
    speed = "max" if config.speed is None else f"{config.speed:g}×"
    return Measurement("GUI (window + engine)", speed, wall, steps[0], session.dt_us, redraws,
                       gui_cpu)


def _table(rows: list[Measurement]) -> str:
    lines = [
        "| run | speed | wall s | steps | steps/s | real-time factor | redraws/s | Qt thread CPU ms per redraw |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in rows:
        redraws = "–" if m.redraws_per_s is None else f"{m.redraws_per_s:.1f}"
        cpu = "–" if m.cpu_ms_per_redraw is None else f"{m.cpu_ms_per_redraw:.1f}"
        lines.append(f"| {m.name} | {m.speed} | {m.wall_s:.1f} | {m.steps} | "
                     f"{m.steps_per_s:.0f} | {m.realtime_factor:.2f} | {redraws} | {cpu} |")
    return "\n".join(lines)


def _median(values: list[float]) -> float:
    return float(np.median(values))


def run(args: argparse.Namespace) -> int:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
            or os.environ.get("QT_QPA_PLATFORM")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from live_snn.bench.report import machine_description, write_section
    from live_snn.engine.config import EngineConfig

    if args.recording is not None:
        recording, rate = args.recording, None
    else:
        recording, rate = densest_recording(args.recordings)
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as workdir:
        model, model_note = _model_path(args.model, Path(workdir))
        as_fast = EngineConfig(device=args.device, speed=None, keep_sensor_frames=True)
        realtime = EngineConfig(device=args.device, speed=1.0, keep_sensor_frames=True)
        rows: list[Measurement] = []
        headless, gui_max = [], []
        for _ in range(args.repeats):  # alternated, so that a change in load hits both
            headless.append(measure_headless(recording, model, as_fast, args.seconds))
            gui_max.append(measure_gui(recording, model, as_fast, args.seconds))
            rows += [headless[-1], gui_max[-1]]
        gui_1x = measure_gui(recording, model, realtime, args.seconds)
        rows.append(gui_1x)
    load_after = os.getloadavg()[0]
    cost = 1.0 - _median([m.steps_per_s for m in gui_max]) / _median(
        [m.steps_per_s for m in headless])
    redraw_rates = [m.redraws_per_s for m in gui_max] + [gui_1x.redraws_per_s]
    worst_redraws = min(redraw_rates)
    verdict_cost = "meets" if cost <= TARGET_GUI_COST else "misses"
    verdict_redraw = "meets" if worst_redraws >= TARGET_REDRAWS_PER_S else "misses"
    source_note = f"`{recording.name}`" + (f" ({rate / 1e3:.0f} k events/s, the densest shared "
                                           f"recording)" if rate is not None else "")
    markdown = "\n".join([
        f"Machine: {machine_description()}; load average {load_before:.1f} before, "
        f"{load_after:.1f} after (other work on the machine shares its cores).",
        "",
        f"Replay of {source_note}, looped; model: {model_note}. The window offscreen at "
        f"1600×960, all panels visible, event trail on; the headless engine has the same "
        f"settings (sensor frames and taps kept). {args.seconds:g} s per run after "
        f"{WARM_UP_S:g} s of warm-up, headless and GUI runs alternated {args.repeats}×, in one "
        "process.",
        "",
        _table(rows),
        "",
        f"GUI cost to the engine at max speed (medians): **{cost:.0%}** of its steps/s "
        f"(target ≤ {TARGET_GUI_COST:.0%}: {verdict_cost}). Redraw rate: **{worst_redraws:.1f}/s** "
        f"at worst (target ≥ {TARGET_REDRAWS_PER_S:g}: {verdict_redraw}).",
    ])
    print(markdown)
    if args.write_docs:
        print(f"wrote {write_section('gui', markdown)}")
    return 0
