"""The streaming engine: Source → Binner → RingBuffer → model step → Predictor, on one worker
thread (plus a reader thread for live sources), with start / pause / resume / single-step /
stop / seek / reset, pacing, backpressure, state snapshots and live statistics.

Threading: every control method only queues a command; the engine thread applies commands
between bins, so the model, its state and the binner are touched by that thread alone.
Consumers subscribe with callbacks that run on the engine thread and must return quickly
(the GUI re-emits them as Qt signals); a consumer that lags behind reads :meth:`latest`.
The engine never waits for a consumer.

Pacing and backpressure:

* Files (seekable) are paced by their timestamps at ``speed`` × real time, or run as fast as
  possible with ``speed=None``; nothing is ever skipped.
* Live sources (camera, network, simulator) deliver in real time. With ``backpressure=
  "skip-oldest"`` (default) at most ``max_pending_bins`` closed bins wait for the model; older
  ones are skipped and counted (``bins_skipped``, ``Prediction.skipped_before``). With
  ``"process-all"`` every bin is stepped and the lag behind the newest event is reported;
  the engine then stops reading ahead, so the backlog stays in the source's own bounded
  buffers (TCP window, camera driver) and our memory stays bounded.

The parts, in the order a bin meets them: :mod:`~live_snn.engine.session` (source and model
set up: runtime binning, feed, snapshot store, SessionInfo), :mod:`~live_snn.engine.replay` /
:mod:`~live_snn.engine.live` (the feeds, over :mod:`~live_snn.engine.frame_cutter`),
:mod:`~live_snn.engine.run_loop` (the engine thread), :mod:`~live_snn.engine.stepper`
(:mod:`~live_snn.engine.runner` with its :mod:`~live_snn.engine.ring_buffer`, then
:mod:`~live_snn.engine.predictor`), and the records handed out
(:mod:`~live_snn.engine.records`, counted by :mod:`~live_snn.engine.stats`).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

from live_snn.engine.commands import CommandQueue
from live_snn.engine.config import EngineConfig, EngineEvent
from live_snn.engine.lifecycle import EngineLifecycle
from live_snn.engine.observers import Observers
from live_snn.engine.records import EngineStats, Prediction, SessionInfo
from live_snn.engine.run_loop import RunLoop
from live_snn.engine.runner import resolve_device
from live_snn.engine.session import checkpoint_of, source_of
from live_snn.engine.stats import EngineCounters
from live_snn.errors import LiveSnnError
from live_snn.events import EventBatch


class Engine(EngineLifecycle):
    """See the module docstring. Typical use::

        engine = Engine(EngineConfig(speed=None))
        engine.open("recording.aedat4")
        engine.load_model("model.safetensors")
        engine.subscribe(print)
        engine.start()
        engine.wait()
        print(engine.stats())
        engine.close()

    This class is what callers on any thread use: it sets the session up (on the engine
    thread once that runs), queues control commands and hands out what the engine thread
    (:class:`~live_snn.engine.run_loop.RunLoop`) reports. ``stop() / close() / wait()`` and
    the context manager are :class:`~live_snn.engine.lifecycle.EngineLifecycle`'s.
    """

    def __init__(self, config: EngineConfig | None = None):
        config = config or EngineConfig()
        self.device = resolve_device(config.device)
        self.counters = EngineCounters(config.latency_window)
        self._observers = Observers(config.keep_latest)
        self._commands = CommandQueue()
        self._ended = threading.Event()
        self._thread: threading.Thread | None = None
        # Owned by the engine thread once started.
        self._loop = RunLoop(config, self.device, commands=self._commands,
                             observers=self._observers, counters=self.counters,
                             ended=self._ended)
        self._session = self._loop.session

    @property
    def config(self) -> EngineConfig:
        """The configuration in force (``set_speed`` changes its speed)."""
        return self._loop.config

    # ------------------------------------------------------------------ setup (any thread)
    def open(self, source) -> None:
        """Use ``source``: an EventSource (the engine takes ownership and closes it) or a spec
        for :func:`live_snn.sources.open_source` (file path, camera[:SERIAL], tcp://host:port,
        a Unix socket path, sim:...). Files are opened unpaced: the engine paces them."""
        source, spec = source_of(source, stall_timeout_s=self.config.stall_timeout_s)
        try:
            self._call_on_engine_thread(self._loop.apply_source, source, spec)
        except BaseException:
            if spec is not None:  # opened here, so closed here; a caller's source stays theirs
                source.close()
            raise

    def load_model(self, model=None) -> None:
        """A checkpoint path, a LoadedCheckpoint, or None for the bundled default model."""
        self._call_on_engine_thread(self._loop.apply_model, checkpoint_of(model, self.device))

    def session_info(self) -> SessionInfo:
        info = self._session.info
        if info is None:
            missing = " and ".join(self._session.missing())
            raise LiveSnnError(f"no session yet: the engine still needs {missing}")
        return info

    # ------------------------------------------------------------------ control (any thread)
    def start(self, *, paused: bool = False) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise LiveSnnError("engine already started")
        info = self.session_info()  # fail here, not on the thread, if the session is incomplete
        if self._session.source_closed:
            raise LiveSnnError(f"{info.source_description} was closed when the last run "
                               "ended: open() a source again")
        self._loop.begin(paused=paused)
        self._start_thread(self._loop.run, "live-snn-engine")
        self._observers.status(EngineEvent("started", info.source_description))

    def pause(self) -> None:
        self._commands.put("pause")

    def resume(self) -> None:
        self._commands.put("resume")

    def step_once(self) -> None:
        """Process exactly one bin, then stay paused (starts a paused engine if needed)."""
        if self._thread is None:
            self.start(paused=True)
        self._commands.put("step")

    def seek(self, t_us: int) -> None:
        """Continue from the bin holding ``t_us`` (recorded sources only): the nearest
        snapshot before it is restored and the model fast-forwarded silently, so what follows
        equals uninterrupted playback."""
        info = self.session_info()
        if not info.seekable:
            raise LiveSnnError(f"cannot seek {info.source_description}: it is a live source")
        self._commands.put("seek", int(t_us))

    def reset(self) -> None:
        """Manual reset: zero model state and smoothing, as at the start of a session."""
        self._commands.put("reset")

    def set_speed(self, speed: float | None) -> None:
        """Replay speed of recordings from the next bin on (× real time, None = max); the
        replay clock re-anchors at that bin. Live sources ignore it."""
        dataclasses.replace(self.config, speed=speed)  # validates now, in the caller's thread
        self._commands.put("speed", speed)

    def _stop_unstarted(self) -> None:
        self._session.close_feed()
        self.counters.set_state("stopped")

    # ------------------------------------------------------------------ observe (any thread)
    def subscribe(self, callback: Callable[[Prediction], None]) -> Callable[[], None]:
        """``callback(prediction)`` on the engine thread for every emitted bin; returns a
        function that unsubscribes."""
        return self._observers.add(self._observers.on_prediction, callback)

    def subscribe_status(self, callback: Callable[[EngineEvent], None]) -> Callable[[], None]:
        return self._observers.add(self._observers.on_status, callback)

    def subscribe_batches(self, callback: Callable[[EventBatch], None]) -> Callable[[], None]:
        """``callback(batch)`` for every batch read from the source, before binning (e.g. to
        record exactly what the model saw)."""
        return self._observers.add(self._observers.on_batch, callback)

    def latest(self, n: int = 1) -> list[Prediction]:
        """The newest ``n`` predictions, oldest first (bounded by keep_latest)."""
        return self._observers.latest(n)

    def stats(self) -> EngineStats:
        return self.counters.snapshot()

    @property
    def state(self) -> str:
        return self.counters.state

    @property
    def error(self) -> BaseException | None:
        """Why the run ended early (stream dropped, corrupt file, failure), or None."""
        return self._loop.error

    # ------------------------------------------------------------------ plumbing
    def _call_on_engine_thread(self, fn: Callable, *args) -> None:
        """Run a setup step now (not started yet) or on the engine thread, and wait for it,
        so that its errors reach the caller."""
        if self._thread is None or not self._thread.is_alive():
            fn(*args)
            return
        if threading.current_thread() is self._thread:
            raise LiveSnnError("open() / load_model() cannot be called from an engine callback")
        self._commands.call(fn, *args)
