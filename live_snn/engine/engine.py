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
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import queue
import stat
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live_snn.binning import BinningConfig
from live_snn.engine.feeds import ClosedBin, StreamEnd
from live_snn.engine.live import LiveFeed
from live_snn.engine.prediction import EngineStats, Prediction, SessionInfo
from live_snn.engine.predictor import Predictor, PredictorConfig
from live_snn.engine.replay import ReplayFeed
from live_snn.engine.runner import ModelRunner, resolve_device
from live_snn.engine.snapshots import Snapshot, SnapshotStore
from live_snn.engine.stats import EngineCounters
from live_snn.errors import (
    BinningError,
    CheckpointError,
    CheckpointMismatchError,
    LiveSnnError,
    SourceError,
    StreamDroppedError,
)
from live_snn.events import EventBatch, Resolution
from live_snn.pacing import Pacer, check_speed

log = logging.getLogger(__name__)

DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[1] / "assets" / "default_lite.safetensors"
BACKPRESSURE_POLICIES = ("skip-oldest", "process-all")
ENDED_STATES = ("finished", "failed", "stopped")


@dataclass(frozen=True)
class EngineConfig:
    device: str = "auto"                     # "auto" | "cpu" | "cuda[:N]"
    speed: float | None = None               # files: None = as fast as possible, x = x × real time
    smoothing: str = "ema"                   # "ema" | "mean"
    ema_tau_steps: float = 5.0
    mean_window: int = 10
    onset_steps: int = 3                     # M
    uncertain_below: float = 0.0
    snapshot_every: int = 100                # bins between state snapshots during replay
    snapshot_budget_mb: float = 256.0        # snapshots thin out beyond this
    reset_on_silence_ms: float | None = None  # reset the model after this long without events
    reset_on_source_change: bool = True
    backpressure: str = "skip-oldest"        # live sources: "skip-oldest" | "process-all"
    max_pending_bins: int = 4                # closed bins allowed to wait for the model
    keep_sensor_frames: bool = False         # Prediction.sensor_frame (the GUI's event view)
    record_taps: bool = True                 # attention + spike rates in each Prediction
    keep_latest: int = 256                   # predictions kept for latest()
    latency_window: int = 8192               # recent samples behind the percentiles
    live_silence_margin_ms: float | None = 50.0  # live: close empty bins on the source clock,
    #                                          this far behind it; None: on events only
    live_queue_batches: int = 256            # live: batches buffered between reader and engine
    reconnect_attempts: int = 3              # network streams: tries after a drop
    reconnect_delay_s: float = 0.5           # wait before the first try; doubles each time
    reconnect_max_delay_s: float = 4.0       # ...up to this
    chunk_bins: int = 64                     # most bins materialised from one batch at once
    cuda_graphs: bool = True                 # on CUDA, replay each step as a captured graph

    def __post_init__(self) -> None:
        check_speed(self.speed, error=ValueError)
        if self.backpressure not in BACKPRESSURE_POLICIES:
            raise ValueError(
                f"backpressure must be one of {BACKPRESSURE_POLICIES}, got {self.backpressure!r}"
            )
        for name in ("max_pending_bins", "snapshot_every", "keep_latest", "latency_window",
                     "live_queue_batches", "chunk_bins"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.reset_on_silence_ms is not None and self.reset_on_silence_ms <= 0:
            raise ValueError(f"reset_on_silence_ms must be > 0 or None, got {self.reset_on_silence_ms}")
        if self.reconnect_attempts < 0:
            raise ValueError(f"reconnect_attempts must be >= 0, got {self.reconnect_attempts}")
        self.predictor_config(1.0)  # validates the smoothing fields now

    def predictor_config(self, logit_scale: float) -> PredictorConfig:
        return PredictorConfig(
            smoothing=self.smoothing,
            ema_tau_steps=self.ema_tau_steps,
            mean_window=self.mean_window,
            onset_steps=self.onset_steps,
            uncertain_below=self.uncertain_below,
            logit_scale=logit_scale,
        )


@dataclass(frozen=True)
class EngineEvent:
    """Something the user should know about, besides predictions: ``kind`` is one of
    started, paused, resumed, seeked, reset, finished, stream_dropped, reconnecting,
    reconnected, failed, stopped, source_changed, model_changed."""

    kind: str
    message: str
    bin: int | None = None


def runtime_binning(trained: BinningConfig, sensor: Resolution, *, live: bool) -> BinningConfig:
    """The binning to run a checkpoint on a source: dt and model resolution from training,
    sensor resolution from the source. The training crop / downscale carry over only for the
    same sensor; on another sensor the mapping is chosen automatically (centred crop, largest
    integer downscale). Live sources drop late (time-reversed) events instead of failing."""
    same_sensor = trained.sensor == sensor
    try:
        return BinningConfig(
            dt_us=trained.dt_us,
            sensor=sensor,
            model=trained.model,
            crop=trained.crop if same_sensor else None,
            downscale=trained.downscale if same_sensor else None,
            tolerate_time_reversal=live or trained.tolerate_time_reversal,
        )
    except BinningError as exc:
        raise CheckpointMismatchError(
            f"the model expects {trained.model} frames (trained on a {trained.sensor} sensor) "
            f"but the source is a {sensor} sensor that cannot be mapped onto it: {exc}"
        ) from None


def is_network_spec(spec: str) -> bool:
    """tcp://host:port, unix:/path, or the path of an existing Unix socket."""
    if spec.startswith(("tcp://", "unix:")):
        return True
    try:
        return stat.S_ISSOCK(os.stat(spec).st_mode)
    except (OSError, ValueError):
        return False


class Engine:
    """See the module docstring. Typical use::

        engine = Engine(EngineConfig(speed=None))
        engine.open("recording.aedat4")
        engine.load_model("model.safetensors")
        engine.subscribe(print)
        engine.start()
        engine.wait()
        print(engine.stats())
        engine.close()
    """

    def __init__(self, config: EngineConfig | None = None):
        self.config = config or EngineConfig()
        self.device = resolve_device(self.config.device)
        self.counters = EngineCounters(self.config.latency_window)
        self._subscribers: list[Callable[[Prediction], None]] = []
        self._status_subscribers: list[Callable[[EngineEvent], None]] = []
        self._batch_subscribers: list[Callable[[EventBatch], None]] = []
        self._latest: deque[Prediction] = deque(maxlen=self.config.keep_latest)
        self._latest_lock = threading.Lock()
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._wake = threading.Event()
        self._ended = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        # Owned by the engine thread once started.
        self._source = None
        self._source_closed = False
        self._reconnectable = False
        self._feed: ReplayFeed | LiveFeed | None = None
        self._spec: str | None = None
        self._checkpoint = None
        self._runner: ModelRunner | None = None
        self._predictor: Predictor | None = None
        self._binning: BinningConfig | None = None
        self._info: SessionInfo | None = None
        self._mode = "paused"
        self._steps_requested = 0
        self._stop_requested = False
        self._finished = False

    # ------------------------------------------------------------------ setup (any thread)
    def open(self, source) -> None:
        """Use ``source``: an EventSource (the engine takes ownership and closes it) or a spec
        for :func:`live_snn.sources.open_source` (file path, camera[:SERIAL], tcp://host:port,
        a Unix socket path, sim:...). Files are opened unpaced: the engine paces them."""
        spec = source if isinstance(source, (str, os.PathLike)) else None
        if spec is not None:
            from live_snn.sources import open_source  # dv-processing loads only when needed

            spec = os.fspath(spec)
            source = open_source(spec, speed=None)
        try:
            self._call_on_engine_thread(self._apply_source, source, spec)
        except BaseException:
            if spec is not None:  # opened here, so closed here; a caller's source stays theirs
                source.close()
            raise

    def load_model(self, model=None) -> None:
        """A checkpoint path, a LoadedCheckpoint, or None for the bundled default model."""
        from live_snn.model import LoadedCheckpoint, load_checkpoint

        if model is None:
            if not DEFAULT_MODEL_PATH.is_file():
                raise CheckpointError(
                    f"no model given and no bundled model found (looked for {DEFAULT_MODEL_PATH}); "
                    "pass a checkpoint with --model"
                )
            model = DEFAULT_MODEL_PATH
        if not isinstance(model, LoadedCheckpoint):
            model = load_checkpoint(model, device=self.device)
        self._call_on_engine_thread(self._apply_model, model)

    def session_info(self) -> SessionInfo:
        if self._info is None:
            missing = [what for what, have in (("a source", self._source),
                                                ("a model", self._checkpoint)) if have is None]
            raise LiveSnnError(f"no session yet: the engine still needs {' and '.join(missing)}")
        return self._info

    # ------------------------------------------------------------------ control (any thread)
    def start(self, *, paused: bool = False) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise LiveSnnError("engine already started")
        self.session_info()  # fail here, not on the thread, if the session is incomplete
        if self._source_closed:
            raise LiveSnnError(f"{self._info.source_description} was closed when the last run "
                               "ended: open() a source again")
        self._stop_requested = False
        self._finished = False
        self._ended.clear()
        self._mode = "paused" if paused else "running"
        self.counters.set_state(self._mode)
        self._thread = threading.Thread(target=self._run, name="live-snn-engine", daemon=True)
        self._thread.start()
        self._emit_status(EngineEvent("started", self._info.source_description))

    def pause(self) -> None:
        self._command("pause")

    def resume(self) -> None:
        self._command("resume")

    def step_once(self) -> None:
        """Process exactly one bin, then stay paused (starts a paused engine if needed)."""
        if self._thread is None:
            self.start(paused=True)
        self._command("step")

    def seek(self, t_us: int) -> None:
        """Continue from the bin holding ``t_us`` (recorded sources only): the nearest
        snapshot before it is restored and the model fast-forwarded silently, so what follows
        equals uninterrupted playback."""
        info = self.session_info()
        if not info.seekable:
            raise LiveSnnError(f"cannot seek {info.source_description}: it is a live source")
        self._command("seek", int(t_us))

    def reset(self) -> None:
        """Manual reset: zero model state and smoothing, as at the start of a session."""
        self._command("reset")

    def set_speed(self, speed: float | None) -> None:
        """Replay speed of recordings from the next bin on (× real time, None = max); the
        replay clock re-anchors at that bin. Live sources ignore it."""
        dataclasses.replace(self.config, speed=speed)  # validates now, in the caller's thread
        self._command("speed", speed)

    def stop(self, timeout: float = 5.0) -> None:
        """End the run (the summary stays available in stats()); closes the source."""
        if self._thread is None:
            self._close_feed()
            self.counters.set_state("stopped")
            self._ended.set()
            return
        self._command("stop")
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (finished, failed or stopped); False on timeout."""
        return self._ended.wait(timeout)

    # ------------------------------------------------------------------ observe (any thread)
    def subscribe(self, callback: Callable[[Prediction], None]) -> Callable[[], None]:
        """``callback(prediction)`` on the engine thread for every emitted bin; returns a
        function that unsubscribes."""
        return self._add(self._subscribers, callback)

    def subscribe_status(self, callback: Callable[[EngineEvent], None]) -> Callable[[], None]:
        return self._add(self._status_subscribers, callback)

    def subscribe_batches(self, callback: Callable[[EventBatch], None]) -> Callable[[], None]:
        """``callback(batch)`` for every batch read from the source, before binning (e.g. to
        record exactly what the model saw)."""
        return self._add(self._batch_subscribers, callback)

    def latest(self, n: int = 1) -> list[Prediction]:
        """The newest ``n`` predictions, oldest first (bounded by keep_latest)."""
        with self._latest_lock:
            items = list(self._latest)
        return items[-n:] if n > 0 else []

    def stats(self) -> EngineStats:
        return self.counters.snapshot()

    @property
    def state(self) -> str:
        return self.counters.state

    @property
    def error(self) -> BaseException | None:
        """Why the run ended early (stream dropped, corrupt file, failure), or None."""
        return self._error

    # ------------------------------------------------------------------ plumbing
    @staticmethod
    def _add(subscribers: list, callback: Callable) -> Callable[[], None]:
        subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in subscribers:
                subscribers.remove(callback)

        return unsubscribe

    def _command(self, name: str, arg=None) -> None:
        self._commands.put((name, arg, None))
        self._wake.set()

    def _call_on_engine_thread(self, fn: Callable, *args) -> None:
        """Run a setup step now (not started yet) or on the engine thread, and wait for it,
        so that its errors reach the caller."""
        if self._thread is None or not self._thread.is_alive():
            fn(*args)
            return
        if threading.current_thread() is self._thread:
            raise LiveSnnError("open() / load_model() cannot be called from an engine callback")
        done: dict = {"event": threading.Event(), "error": None}
        self._commands.put(("call", (fn, args), done))
        self._wake.set()
        done["event"].wait()
        if done["error"] is not None:
            raise done["error"]

    def _emit_status(self, event: EngineEvent) -> None:
        log.info("%s: %s", event.kind, event.message)
        for callback in list(self._status_subscribers):
            callback(event)

    # ------------------------------------------------------------------ session setup
    def _apply_source(self, source, spec: str | None) -> None:
        if self._checkpoint is not None:  # refuse before letting go of the current source
            runtime_binning(self._checkpoint.binning, Resolution.of(source.resolution),
                            live=bool(source.is_live))
        had_source = self._source is not None
        self._close_feed()
        self._source, self._spec = source, spec
        self._source_closed = False
        self._live = bool(source.is_live)
        self._seekable = not self._live and hasattr(source, "seek")
        # Decided now: a Unix socket file may be gone by the time the stream drops.
        self._reconnectable = spec is not None and is_network_spec(spec)
        reset = not had_source or self.config.reset_on_source_change
        if had_source and reset and self._runner is not None:
            self.counters.count_reset()
        self._prepare(reset_state=reset)
        if had_source:
            self._emit_status(EngineEvent("source_changed", source.description))

    def _apply_model(self, checkpoint) -> None:
        if self._source is not None:  # refuse before letting go of the current model
            runtime_binning(checkpoint.binning, Resolution.of(self._source.resolution),
                            live=self._live)
        had_model = self._checkpoint is not None
        self._checkpoint = checkpoint
        self._runner = ModelRunner(checkpoint, self.device, cuda_graph=self.config.cuda_graphs)
        self._predictor = Predictor(
            self.config.predictor_config(checkpoint.logit_scale), self._runner.num_classes
        )
        self._prepare(new_model=True)
        if had_model:
            self._emit_status(EngineEvent("model_changed", f"model {checkpoint.sha256[:12]}"))

    def _prepare(self, *, reset_state: bool = True, new_model: bool = False) -> None:
        """(Re)build everything that depends on both the source and the model."""
        if self._source is None or self._checkpoint is None:
            return
        source, ckpt, runner = self._source, self._checkpoint, self._runner
        self._binning = runtime_binning(ckpt.binning, Resolution.of(source.resolution),
                                        live=self._live)
        dt = self._binning.dt_us
        if reset_state:
            runner.reset()
            self._predictor.reset()
        self._store = SnapshotStore(self.config.snapshot_every,
                                    int(self.config.snapshot_budget_mb * 2**20))
        silence = self.config.reset_on_silence_ms
        self._silence_bins = None if silence is None else max(1, math.ceil(silence * 1e3 / dt))
        self._empty_run = 0
        self._reset_due = False
        self._skipped_since = 0
        self._source_error: BaseException | None = None
        self._finished = False
        self._pacer = self._new_pacer()
        if self._feed is None or self._feed.source is not source:
            if not self._live:  # a live feed starts on the engine thread (see _loop)
                self._feed = ReplayFeed(source, self._binning, on_batch=self._on_batch,
                                        keep_sensor_frames=self.config.keep_sensor_frames,
                                        chunk_bins=self.config.chunk_bins)
        elif new_model:
            # Same source, another model: a recording replays from its start; a live stream
            # goes on, binned for the new model from the next batch.
            self.counters.retire_binner()
            self._feed.rebin(self._binning)
        if self._thread is not None and self._thread.is_alive():
            self._ended.clear()
            self.counters.set_state(self._mode)
        replay = None if self._live else self._feed
        model = ckpt.model
        self._info = SessionInfo(
            source_description=source.description,
            is_live=self._live,
            seekable=self._seekable,
            sensor=Resolution.of(source.resolution),
            model_resolution=self._binning.model,
            mapping=self._binning.mapping(),
            binning=self._binning,
            start_us=None if replay is None else replay.start_us,
            end_us=None if replay is None else replay.end_us,
            class_names=tuple(ckpt.class_names),
            attention_channels=dict(model.attention_channels),
            spiking_layers=tuple(model.spiking_layers),
            window_steps=runner.window_steps,
            streams_by_step=runner.streams,
            device=str(self.device),
            dt_us=dt,
            has_labels=getattr(source, "labels", None) is not None,
            model_sha256=ckpt.sha256,
            model_path=None if ckpt.path is None else str(ckpt.path),
        )

    def _open_live_feed(self) -> LiveFeed:
        # Started on the engine thread, so nothing is read before start().
        return LiveFeed(
            self._source, self._binning,
            on_batch=self._on_batch, on_skip=self._on_skip,
            skip_oldest=self.config.backpressure == "skip-oldest",
            max_pending=self.config.max_pending_bins,
            max_queued_batches=self.config.live_queue_batches,
            silence_margin_ms=self.config.live_silence_margin_ms,
            keep_sensor_frames=self.config.keep_sensor_frames,
            chunk_bins=self.config.chunk_bins,
        )

    def _close_feed(self) -> None:
        """Close the source (through its feed, which may own a reader thread)."""
        feed, self._feed = self._feed, None
        if feed is not None:
            feed.close()
        elif self._source is not None and not self._source_closed:
            self._source.close()
        self._source_closed = True

    # ------------------------------------------------------------------ engine thread
    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # reported, never swallowed: stats().error and status
            self._error = exc
            message = str(exc) if isinstance(exc, LiveSnnError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, LiveSnnError):
                log.exception("engine failed")
            self.counters.fail(message)
            self.counters.set_state("failed")
            self._emit_status(EngineEvent("failed", message))
        finally:
            self._close_feed()
            self._ended.set()

    def _loop(self) -> None:
        while True:
            self._apply_commands()
            if self._stop_requested:
                if not self._finished:  # a finished run keeps "finished" in its summary
                    self.counters.set_state("stopped")
                    self._emit_status(EngineEvent("stopped", "stopped by request"))
                return
            if self._finished:
                if not self._seekable:
                    return
                self._idle(0.2)
                continue
            wants_bin = self._mode == "running" or self._steps_requested > 0
            if self._live:
                if self._feed is None:
                    self._feed = self._open_live_feed()
                # Paused or not, a live source keeps arriving: bin it and apply the policy.
                end = self._feed.poll(0.02)
                # The source delivered these events, so they count in events_in too.
                self.counters.add_events(self._feed.dropped_events)
                self.counters.drop("ingest_overflow", self._feed.dropped_events)
                self._feed.dropped_events = 0
                if end is not None:
                    self._on_stream_end(end)
                self._report_lag()
                if not wants_bin:
                    self._idle(0.02)
                    continue
            elif not wants_bin:
                self._idle(0.2)
                continue
            closed = self._feed.next_bin()
            if closed is None:
                if self._feed.ended:
                    self._end_of_stream()
                continue
            paced = self._mode == "running" and not self._live and self._pacer is not None
            if paced and not self._pace(closed):
                self._feed.put_back(closed)
                continue
            self._process(closed, emit=True)
            if self._mode == "paused" and self._steps_requested > 0:
                self._steps_requested -= 1

    def _idle(self, timeout: float) -> None:
        self._wake.wait(timeout)
        self._wake.clear()

    def _apply_commands(self) -> None:
        while True:
            try:
                name, arg, done = self._commands.get_nowait()
            except queue.Empty:
                return
            if name == "call":
                fn, args = arg
                try:
                    fn(*args)
                except BaseException as exc:  # handed back to the calling thread
                    done["error"] = exc
                finally:
                    done["event"].set()
            elif name == "pause":
                self._set_mode("paused")
            elif name == "resume":
                self._set_mode("running")
            elif name == "step":
                if self._mode == "paused":
                    self._steps_requested += 1
            elif name == "seek":
                self._seek(arg)
            elif name == "reset":
                self._manual_reset()
            elif name == "speed":
                self.config = dataclasses.replace(self.config, speed=arg)
                self._pacer = self._new_pacer()
            elif name == "stop":
                self._stop_requested = True

    def _set_mode(self, mode: str) -> None:
        if mode == self._mode:
            return
        self._mode = mode
        self._restart_pacing()
        self._steps_requested = 0
        if not self._finished:
            self.counters.set_state(mode)
        self._emit_status(EngineEvent("paused" if mode == "paused" else "resumed", mode))

    # ---- what the feeds report ----------------------------------------------------------
    def _on_batch(self, batch: EventBatch) -> None:
        self.counters.add_events(len(batch))
        for callback in list(self._batch_subscribers):
            callback(batch)

    def _on_skip(self, closed: ClosedBin) -> None:
        self.counters.record_skipped(1, self._binning.dt_us, closed.frame.n_events)
        self._skipped_since += 1
        if self._count_silence(closed.frame.n_events):
            self._reset_due = True  # the silence ran out inside skipped bins

    def _report_lag(self) -> None:
        lag = self._feed.lag_ms() if self._feed is not None else None
        if lag is not None:
            self.counters.set_lag(lag, len(self._feed.pending))

    def _on_stream_end(self, end: StreamEnd) -> None:
        error = end.error
        if error is not None and not isinstance(error, SourceError):
            raise error
        if error is not None:
            self._emit_status(EngineEvent("stream_dropped", str(error)))
            dropped = isinstance(error, StreamDroppedError)
            if dropped and self._reconnectable:
                self._run_pending()
                if self._reconnect(error):
                    return
            self._source_error = self._source_error or error
        self._feed.finish()

    def _run_pending(self) -> None:
        """Step the bins that closed before the stream dropped now, rather than after the
        reconnection attempts (a paused engine keeps them waiting, as any bin)."""
        while self._mode == "running" and not self._stop_requested:
            closed = self._feed.next_bin()
            if closed is None:
                return
            self._process(closed, emit=True)

    def _reconnect(self, error: BaseException) -> bool:
        """Bounded retries with a doubling delay; True once the stream is back (or a stop
        was requested meanwhile)."""
        from live_snn.sources.network import NetworkSource

        dropped, last = error, error
        delay = self.config.reconnect_delay_s
        attempts = self.config.reconnect_attempts
        for attempt in range(1, attempts + 1):
            self._emit_status(EngineEvent(
                "reconnecting",
                f"reconnecting to {self._spec} in {delay:.1f} s (attempt {attempt} of {attempts})",
            ))
            self._idle(delay)
            self._apply_commands()
            if self._stop_requested:
                return True
            try:
                source = NetworkSource(self._spec)
                self._feed.replace_source(source)
            except SourceError as exc:
                last = exc
                delay = min(2 * delay, self.config.reconnect_max_delay_s)
                continue
            self._source, self._source_closed = source, False
            self.counters.retire_binner()
            if self.config.reset_on_source_change:
                self._reset_model("reconnected")
            self.counters.count_reconnect()
            self._emit_status(EngineEvent("reconnected", f"reconnected to {self._spec}"))
            return True
        self._source_error = StreamDroppedError(
            f"{dropped}; gave up on {self._spec} after {attempts} reconnection attempts "
            f"(last: {last})"
        )
        self._emit_status(EngineEvent("stream_dropped", str(self._source_error)))
        return False

    def _end_of_stream(self) -> None:
        self._finished = True
        error = self._source_error
        if error is None and not self._live:
            error = self._feed.error  # a damaged file: every bin before the damage was run
        if error is not None:
            self._error = error
            self.counters.fail(str(error))
        self.counters.set_state("finished")
        stats = self.counters.snapshot()
        message = f"{stats.bins} bins, {stats.events_in} events"
        if error is not None:
            message += f"; ended early: {error}"
        self._emit_status(EngineEvent("finished", message))
        self._ended.set()

    # ---- pacing, seek, reset ------------------------------------------------------------
    def _new_pacer(self) -> Pacer | None:
        """Replay at ``speed`` × real time on the latency clocks' clock; None: as fast as
        possible."""
        speed = self.config.speed
        return None if speed is None else Pacer(speed, clock=time.perf_counter)

    def _restart_pacing(self) -> None:
        """The replay clock re-anchors at the next bin (after a pause, a seek, a new source)."""
        if self._pacer is not None:
            self._pacer.restart()

    def _pace(self, closed: ClosedBin) -> bool:
        """Wait until the bin's end is due at ``speed`` × real time; False if a command
        arrived meanwhile (the bin is then put back)."""
        release = self._pacer.due(closed.frame.t_end, start_us=closed.frame.t_start)
        while not self._pacer.wait(release, self._wake, slice_s=0.05):
            if not self._commands.empty():
                return False
            self._wake.clear()
        closed.release = release
        return True

    def _seek(self, t_us: int) -> None:
        feed: ReplayFeed = self._feed
        target = feed.bin_of(t_us)
        snapshot = self._store.nearest(target)
        if snapshot is None:
            self._runner.reset()
            self._predictor.reset()
            self._empty_run, first = 0, 0
        else:
            self._runner.restore(snapshot.runner)
            self._predictor.restore(snapshot.predictor)
            self._empty_run, first = snapshot.empty_run, snapshot.bin
        self._reset_due = False
        self.counters.retire_binner()
        feed.restart_at(first)
        while True:  # fast-forward silently to the target bin
            closed = feed.next_bin()
            if closed is None:
                break
            if closed.frame.index >= target:
                feed.put_back(closed)
                break
            self._process(closed, emit=False)
        self._source_error = None
        self._finished = False
        self._ended.clear()
        self._restart_pacing()
        self.counters.set_state(self._mode)
        self._emit_status(EngineEvent(
            "seeked", f"bin {target} (restored bin {first}, fast-forwarded {target - first})",
            bin=target,
        ))

    def _manual_reset(self) -> None:
        # Snapshots no longer describe this run's history: a later seek replays from the
        # recording (snapshots refill as bins are processed again).
        self._store.clear()
        self._reset_model("manual reset")

    def _reset_model(self, why: str, bin_index: int | None = None) -> None:
        self._runner.reset()
        self._predictor.reset()
        self.counters.count_reset()
        self._emit_status(EngineEvent("reset", why, bin=bin_index))

    def _count_silence(self, n_events: int) -> bool:
        """Count this bin into the run of empty bins; True when the run just reached the
        reset-on-silence length (the reset happens once per silence)."""
        self._empty_run = self._empty_run + 1 if n_events == 0 else 0
        return self._silence_bins is not None and self._empty_run == self._silence_bins

    # ---- one bin ----------------------------------------------------------------------
    def _process(self, closed: ClosedBin, *, emit: bool) -> None:
        frame = closed.frame
        if self._seekable and self._store.due(frame.index):
            self._store.add(Snapshot(frame.index, self._runner.snapshot(),
                                     self._predictor.snapshot(), self._empty_run))
        silence_reset = self._count_silence(frame.n_events) or self._reset_due
        self._reset_due = False
        if silence_reset:
            if emit:
                self._reset_model(
                    f"{self.config.reset_on_silence_ms:g} ms without events", frame.index)
            else:  # fast-forward: same state change, no report
                self._runner.reset()
                self._predictor.reset()
        step_start = time.perf_counter()
        result = self._runner.step(frame.counts, taps=emit and self.config.record_taps)
        out = self._predictor.update(result.scores)
        if not emit:
            return
        done = time.perf_counter()
        closed_at = closed.closed_at if closed.release is None else max(closed.closed_at,
                                                                           closed.release)
        latency = {
            "event_to_bin": (closed.closed_at - closed.arrival) * 1e3
            if closed.arrival is not None else math.nan,
            "queue": (step_start - closed_at) * 1e3,
            "step": result.step_ms,
            "bin_to_prediction": (done - closed_at) * 1e3,
        }
        names = self._info.class_names
        ground_truth = -1
        labels = getattr(self._source, "labels", None)  # a simulator's track grows as it goes
        if labels is not None:
            centre = np.array([(frame.t_start + frame.t_end) // 2], dtype=np.int64)
            ground_truth = int(labels.label_at(centre)[0])
        prediction = Prediction(
            bin=frame.index,
            t_start_us=frame.t_start,
            t_end_us=frame.t_end,
            events=frame.n_events,
            scores=result.scores,
            probs=out.probs,
            smoothed=out.smoothed,
            label=out.label,
            label_name=names[out.label],
            confidence=out.confidence,
            uncertain=out.uncertain,
            onset=out.onset,
            attention=result.attention,
            spike_rates=result.spike_rates,
            frame=frame.counts,  # read-only for empty bins (they share one zero array)
            sensor_frame=frame.sensor_counts,
            ground_truth=ground_truth,
            latency_ms=latency,
            skipped_before=self._skipped_since,
        )
        self._skipped_since = 0
        binner = self._feed.binner_stats
        if binner is not None:
            self.counters.set_binner_dropped({
                "out_of_range": binner.dropped_out_of_range,
                "outside_crop": binner.dropped_outside_crop,
                "time_reversal": binner.dropped_time_reversal,
            })
        self.counters.record_bin({k: v for k, v in latency.items() if not math.isnan(v)},
                                 self._binning.dt_us, frame.t_end, done)
        with self._latest_lock:
            self._latest.append(prediction)
        for callback in list(self._subscribers):
            callback(prediction)
