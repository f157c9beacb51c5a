"""Application start-up: the QApplication in the dark theme, the window, the engine bridge,
and the ``--screenshot FILE --quit-after SECONDS`` mode used for documentation and checks.

``main(options)`` is what ``live-snn gui`` calls after resolving the source and the model.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from live_snn.engine import EngineConfig

from .engine_bridge import EngineBridge
from .theme import apply_theme
from .window import MainWindow

WINDOW_SIZE = (1600, 960)
OPEN_TIMEOUT_S = 60.0          # --quit-after: the longest wait for the session to open


@dataclass(frozen=True)
class GuiOptions:
    source: str | None                 # spec to open at start (None: nothing yet)
    model: str | None                  # checkpoint to load at start
    engine: EngineConfig = EngineConfig(speed=1.0)
    screenshot: Path | None = None     # save the window here, then quit
    quit_after_s: float | None = None  # quit after this long (the screenshot is taken then)
    notice: str | None = None          # shown in the banner at start (e.g. "no model")
    paused: bool = False               # open without starting playback


# The engine thread hands the GIL back and forth with torch at every operation of a step;
# while the Qt thread paints, each hand-back waits up to the interpreter's switch interval
# (5 ms by default). A shorter interval keeps the engine's throughput with the window open.
GIL_SWITCH_INTERVAL_S = 0.0005


def create_app() -> QApplication:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("live_snn")
    apply_theme(app)
    return app


@contextmanager
def garbage_collected_on_gui_thread(interval_s: float = 1.0) -> Iterator[None]:
    """Python's cyclic garbage collector runs in whichever thread happens to allocate when
    a threshold is crossed, often the engine thread (torch allocates at every step). Garbage
    that holds Qt objects would then be destroyed off the GUI thread, which can crash Qt.
    While the window runs, automatic collection is off and pyqtgraph's collector runs it on
    a timer in this (the GUI) thread; afterwards it is back on."""
    collector = GarbageCollector(interval=interval_s)
    try:
        yield
    finally:
        collector.timer.stop()
        gc.collect()
        gc.enable()


def build_window(options: GuiOptions) -> MainWindow:
    bridge = EngineBridge(options.engine)
    window = MainWindow(bridge)
    window.resize(*WINDOW_SIZE)
    speed = options.engine.speed
    index = window.controls.speed_box.findData(speed)
    if index >= 0:
        window.controls.speed_box.blockSignals(True)
        window.controls.speed_box.setCurrentIndex(index)
        window.controls.speed_box.blockSignals(False)
    if options.notice:
        window.banner.show_info(options.notice)
    bridge.open_session(options.source, options.model, autoplay=not options.paused)
    return window


def save_screenshot(window: MainWindow, path: Path) -> Path:
    """Render the window as it is now into a PNG (works offscreen too)."""
    window.redraw_all()
    path.parent.mkdir(parents=True, exist_ok=True)
    # PNG "quality" 0 = strongest (lossless) compression: screenshots go into the docs.
    if not window.grab().save(str(path), "PNG", 0):
        raise OSError(f"could not write the screenshot to {path}")
    return path


def main(options: GuiOptions) -> int:
    app = create_app()
    with garbage_collected_on_gui_thread():
        window = build_window(options)
        window.show()
        outcome = {"code": 0}
        if options.quit_after_s is not None or options.screenshot is not None:
            _schedule_quit(app, window, options, outcome)
        app.exec()
        window.bridge.close()
    return outcome["code"]


def _schedule_quit(app: QApplication, window: MainWindow, options: GuiOptions,
                   outcome: dict) -> None:
    """Quit (after the screenshot) ``quit_after_s`` seconds into the session: the clock
    starts when the source and model are open (opening can take a while on a busy machine),
    or at once when opening failed, so the screenshot shows the running window or the
    error. ``OPEN_TIMEOUT_S`` bounds the wait."""
    delay_ms = int(1000 * (options.quit_after_s if options.quit_after_s is not None else 5.0))
    started = {"done": False}

    def finish() -> None:
        if options.screenshot is not None:
            try:
                saved = save_screenshot(window, options.screenshot)
                print(f"live-snn gui: screenshot saved to {saved}")
            except OSError as exc:
                print(f"live-snn gui: error: {exc}", file=sys.stderr)
                outcome["code"] = 1
        window.close()
        app.quit()

    def start_clock(*_args) -> None:
        if not started["done"]:
            started["done"] = True
            QTimer.singleShot(delay_ms, finish)

    def failed(message: str) -> None:
        # A window quitting on its own is a script's: an error must show in its exit code.
        if outcome["code"] == 0:
            print(f"live-snn gui: error: {message}", file=sys.stderr)
        outcome["code"] = 1
        start_clock()

    bridge = window.bridge
    bridge.errorRaised.connect(failed)
    if options.source is None or options.model is None:
        start_clock()  # nothing to wait for
        return
    bridge.sessionOpened.connect(start_clock)
    QTimer.singleShot(int(OPEN_TIMEOUT_S * 1000), start_clock)
