"""The window's only door to ``live_snn``: a QObject that owns the :class:`Engine` and turns
its callbacks into a per-step history and Qt signals.

Threads: the engine calls back on its own thread, so the callbacks only append to deques
(thread-safe for append / popleft); a QTimer on the Qt thread drains them about 30 times a
second into :class:`StepHistory` and emits ``stepsArrived``. Work that can take a while
(opening a file or a camera, loading a checkpoint, stopping a run) goes to one worker
thread, in order; its results come back through the same timer. The Qt thread never waits
for the engine, the disk or a camera.

A new source or a new model gets a fresh engine (an engine thread is started once); the old
one is paused until the new one is up, and stopped after, so a bad file or checkpoint leaves
the running session as it was. Live sources are stopped first: a camera cannot be opened
twice.
"""

from __future__ import annotations

import dataclasses
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from PySide6.QtCore import QObject, QTimer, Signal

from live_snn.engine import Engine, EngineConfig, EngineEvent, SessionInfo
from live_snn.errors import LiveSnnError
from live_snn.view.history import HistoryConfig, StepHistory

REDRAW_HZ = 30.0
_REPLACED = "the source or the model changed"   # why the bridge stops a session it replaces
_STATS_EVERY_TICKS = 5          # stats snapshots at ~6 Hz: enough for a status bar
_EVENT_MESSAGES = {             # engine events the user should see, and how
    "stream_dropped": "error",
    "reconnecting": "info",
    "reconnected": "info",
    "failed": "error",
}


def describe_error(exc: BaseException) -> str:
    """One line for the banner: our own errors say it all; anything else gets its type."""
    if isinstance(exc, LiveSnnError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return f"{type(exc).__name__}: {exc}"


class EngineBridge(QObject):
    sessionOpened = Signal(object)     # SessionInfo of a new session (new source or model)
    sourceOpened = Signal(str)         # a source is open (even without a model)
    stepsArrived = Signal(int)         # after each drain (0 when nothing new)
    errorRaised = Signal(str)
    noticeRaised = Signal(str)
    statsUpdated = Signal(object)      # EngineStats
    stateChanged = Signal(str)         # engine state: idle, running, paused, finished, ...
    busyChanged = Signal(str)          # what the worker is doing, "" when done
    camerasFound = Signal(object)      # list of (label, spec)
    engineEvent = Signal(object)       # every EngineEvent of the current engine (Qt thread)

    def __init__(
        self,
        config: EngineConfig | None = None,
        *,
        history: HistoryConfig | None = None,
        redraw_hz: float = REDRAW_HZ,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        # The event view draws at sensor resolution, so the engine keeps sensor frames.
        self.config = dataclasses.replace(config or EngineConfig(), keep_sensor_frames=True)
        self.history = StepHistory(history)
        self.engine: Engine | None = None
        self.session: SessionInfo | None = None
        self.spec: str | None = None
        self.model_path: str | None = None
        self.state = "idle"
        self._mode = "paused"          # what we last told the engine: running or paused
        self._seeks_pending = 0        # until the engine reports them, its state is stale
        self.ticks = 0
        self.events_seen = 0           # events in the bins predicted in this session
        self._generation = 0
        self._unsubscribe: list[Callable[[], None]] = []
        self._predictions: deque = deque()
        self._events: deque = deque()
        self._ops = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-snn-gui-ops")
        self._pending: list[tuple[Future, str, Callable | None]] = []
        self._autoplay = True
        self.timer = QTimer(self)
        self.timer.setInterval(max(1, round(1000.0 / redraw_hz)))
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    # ------------------------------------------------------------------ sessions
    def open_source(self, spec: str, *, autoplay: bool = True,
                    source: Callable[[], object] | None = None,
                    then: Callable[[Engine], None] | None = None) -> None:
        """Open a file path / camera[:SERIAL] / tcp://host:port / socket / sim: spec;
        ``source`` builds the EventSource for it instead (on the worker), ``then`` is called
        with the new engine once it runs."""
        self._autoplay = autoplay

        def done(engine):
            self._adopt(engine, spec, self.model_path)
            if then is not None:
                then(engine)

        self._run(f"opening {spec}", lambda: self._build(spec, self.model_path, source), done)

    def open_session(self, spec: str | None, model_path: str | None, *,
                     autoplay: bool = True) -> None:
        """Start-up: a source and a model together (either may be None)."""
        if model_path is None:
            if spec is not None:
                self.open_source(spec, autoplay=autoplay)
            return
        if spec is None:
            self.load_model(model_path)
            return
        self._autoplay = autoplay
        model_path = os.fspath(model_path)

        def done(engine):
            self.model_path = model_path
            self._adopt(engine, spec, model_path)

        self._run(f"opening {spec} with {os.path.basename(model_path)}",
                  lambda: self._build(spec, model_path), done)

    def load_model(self, path: str) -> None:
        """Load a checkpoint; with a source open, the session restarts with the new model
        (playing if it was playing, else paused at its first bin)."""
        path = os.fspath(path)
        self._autoplay = self._mode == "running"

        def job():
            with Engine(self.config) as probe:  # the checkpoint alone first: a bad one
                probe.load_model(path)          # leaves the running session as it is
            return self._build(self.spec, path) if self.spec is not None else None

        def done(engine):
            self.model_path = path
            if engine is not None:
                self._adopt(engine, self.spec, path)
            else:
                self.noticeRaised.emit(f"model loaded: {os.path.basename(path)}; open a source")

        self._run(f"loading model {os.path.basename(path)}", job, done)

    def _build(self, spec: str, model_path: str | None,
               source: Callable[[], object] | None = None) -> Engine:
        """Worker thread: a new engine on ``spec`` (+ model); the old one is paused
        meanwhile, or stopped first when it holds a live device."""
        old = self.engine
        old_live = self.session is not None and self.session.is_live
        if old is not None and old_live:
            old.stop(reason=_REPLACED)
        elif old is not None:
            old.pause()
        engine = Engine(self.config)
        try:
            engine.open(spec if source is None else source())
            if model_path is not None:
                engine.load_model(model_path)
        except BaseException:
            engine.close()
            if old is not None and not old_live and self.state == "running":
                old.resume()
            raise
        return engine

    def _adopt(self, engine: Engine, spec: str, model_path: str | None) -> None:
        """Qt thread: make ``engine`` current, stop the old one (on the worker)."""
        old = self.engine
        if old is not None:
            self._detach()
            self._ops.submit(old.stop, reason=_REPLACED)
        self.engine, self.spec = engine, spec
        self._generation += 1
        generation = self._generation
        self._predictions.clear()
        self._events.clear()
        self._seeks_pending = 0
        self.events_seen = 0
        self.history.clear()
        self._unsubscribe = [
            engine.subscribe(lambda p: self._predictions.append((generation, p))),
            engine.subscribe_status(lambda e: self._events.append((generation, e))),
        ]
        if model_path is None:
            self.session = None
            self.sourceOpened.emit(spec)
            self.noticeRaised.emit(
                f"opened {spec}, but no model is loaded: choose one with “Load model…” "
                "(or start with --model CHECKPOINT) to see events and predictions"
            )
            self._set_state("idle")
            return
        self.session = engine.session_info()
        self.sourceOpened.emit(self.session.source_description)
        self.sessionOpened.emit(self.session)
        engine.start(paused=not self._autoplay)
        self._mode = "running" if self._autoplay else "paused"
        self._set_state(self._mode)

    def _detach(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    def _run(self, what: str, job: Callable, done: Callable | None) -> None:
        self.busyChanged.emit(what)
        self._pending.append((self._ops.submit(job), what, done))

    # ------------------------------------------------------------------ transport
    def _running_engine(self) -> Engine | None:
        return self.engine if self.session is not None else None

    def play(self) -> None:
        engine = self._running_engine()
        if engine is None:
            return
        if self.state == "finished" and self.session.seekable:
            engine.seek(self.session.start_us)  # play at the end = play again
        engine.resume()
        self._mode = "running"
        self._set_state("running")

    def pause(self) -> None:
        engine = self._running_engine()
        if engine is not None:
            engine.pause()
            self._mode = "paused"
            self._set_state("paused")

    def toggle_play(self) -> None:
        if self.state == "running":
            self.pause()
        else:
            self.play()

    def step_once(self) -> None:
        """Exactly one more bin, then paused."""
        engine = self._running_engine()
        if engine is None:
            return
        if self._mode == "running":
            engine.pause()
        engine.step_once()
        self._mode = "paused"
        self._set_state("paused")

    def seek(self, t_us: int) -> bool:
        """Whether the engine took the seek (an error goes to the banner)."""
        engine = self._running_engine()
        if engine is None:
            return False
        try:
            engine.seek(int(t_us))
        except LiveSnnError as exc:
            self.errorRaised.emit(describe_error(exc))
            return False
        self._seeks_pending += 1
        self._set_state(self._mode)  # a seek from the end of a recording: no longer finished
        return True

    def reset(self) -> None:
        engine = self._running_engine()
        if engine is not None:
            engine.reset()

    def set_speed(self, speed: float | None) -> None:
        """× real time for recordings (None = as fast as possible); live sources ignore it.
        The engine applies it from its next bin on, its replay clock re-anchored there; an
        engine built later (a new source or model) starts with it."""
        self.config = dataclasses.replace(self.config, speed=speed)
        if self.engine is not None:
            self.engine.set_speed(speed)

    def discover_cameras(self) -> None:
        def job():
            from live_snn.sources.camera import list_cameras

            return [(str(camera), f"camera:{camera.serial}") for camera in list_cameras()]

        self._run("looking for cameras", job, self.camerasFound.emit)

    # ------------------------------------------------------------------ the 30 Hz tick
    def tick(self) -> None:
        self.ticks += 1
        self._finish_ops()
        self._drain_events()
        fresh = self._drain_predictions()
        if fresh:
            self.history.append(fresh)
            self.events_seen += sum(p.events for p in fresh)
        if self.engine is not None:
            # The state is a plain read, so at every tick (the end of a recording shows at
            # once); a stats snapshot (latency percentiles, taken under the engine's lock)
            # only as often as the status bar shows one.
            state = self.engine.state
            if state != self.state and self.session is not None and not self._seeks_pending:
                self._set_state(state)
            if self.ticks % _STATS_EVERY_TICKS == 0:
                self.statsUpdated.emit(self.engine.stats())
        self.stepsArrived.emit(len(fresh))

    def _drain_predictions(self) -> list:
        fresh = []
        queue, generation = self._predictions, self._generation
        for _ in range(len(queue)):
            gen, prediction = queue.popleft()
            if gen == generation:
                fresh.append(prediction)
        return fresh

    def _drain_events(self) -> None:
        queue, generation = self._events, self._generation
        for _ in range(len(queue)):
            gen, event = queue.popleft()
            if gen == generation:
                self._on_engine_event(event)

    def _on_engine_event(self, event: EngineEvent) -> None:
        self.engineEvent.emit(event)
        if event.kind == "seeked":
            self._seeks_pending = max(0, self._seeks_pending - 1)
        kind = _EVENT_MESSAGES.get(event.kind)
        if event.kind == "finished" and "ended early" in event.message:
            kind = "error"
        if kind == "error":
            self.errorRaised.emit(event.message)
        elif kind == "info":
            self.noticeRaised.emit(event.message)

    def _finish_ops(self) -> None:
        if not self._pending:
            return
        still = []
        for future, what, done in self._pending:
            if not future.done():
                still.append((future, what, done))
                continue
            error = future.exception()
            if error is not None:
                self.errorRaised.emit(f"{what}: {describe_error(error)}")
            elif done is not None:
                try:
                    done(future.result())
                except LiveSnnError as exc:
                    self.errorRaised.emit(f"{what}: {describe_error(exc)}")
        self._pending = still
        if not still:
            self.busyChanged.emit("")

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

    # ------------------------------------------------------------------ shutdown
    def close(self) -> None:
        """Stop the engine and the worker (waits for both; call when the window closes)."""
        self.timer.stop()
        self._detach()
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.stop()
        self._ops.shutdown(wait=True, cancel_futures=True)
