"""The engine thread: applies the commands queued by the :class:`~live_snn.engine.Engine`
between bins, takes closed bins from the session's feed (pacing a replay, following a live
source), steps each through the model and the predictor, and hands out one
:class:`~live_snn.engine.records.Prediction` per bin. Seek, resets, the end of a stream and
the reconnection of a dropped network stream happen here too."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

import torch

from live_snn.engine.commands import STOP_REASON, CommandQueue
from live_snn.engine.config import EngineConfig, EngineEvent
from live_snn.engine.frame_cutter import ClosedBin
from live_snn.engine.live_reader import StreamEnd
from live_snn.engine.observers import Observers
from live_snn.engine.reconnect import attempt_line, attempts_spent, budget_spent
from live_snn.engine.replay import ReplayFeed
from live_snn.engine.session import Session
from live_snn.engine.stats import EngineCounters
from live_snn.engine.stepper import BinStepper
from live_snn.errors import LiveSnnError, SourceError, StreamDroppedError
from live_snn.events import EventBatch
from live_snn.pacing import Pacer

log = logging.getLogger("live_snn.engine")


class RunLoop:
    """Everything the engine thread does; its state is touched by that thread alone (or
    before it starts). ``ended`` is set when a run has ended (finished, failed, stopped)."""

    def __init__(self, config: EngineConfig, device: torch.device, *, commands: CommandQueue,
                 observers: Observers, counters: EngineCounters, ended: threading.Event):
        self.config = config
        self.session = Session(config, device, on_batch=self.on_batch, on_skip=self.on_skip,
                               on_jump=self.on_jump)
        self.commands = commands
        self.observers = observers
        self.counters = counters
        self.ended = ended
        self.error: BaseException | None = None   # why the run ended early, if it did
        self.mode = "paused"
        self.steps_requested = 0
        self.stop_requested = False
        self.stop_reason = STOP_REASON
        self.finished = False
        self.on_thread = False                    # run() is going on
        self.stepper = BinStepper(self.session, counters=counters, observers=observers,
                                  record_taps=config.record_taps,
                                  silence_ms=config.reset_on_silence_ms)
        self._pacer: Pacer | None = None
        self._source_error: BaseException | None = None

    # ------------------------------------------------------------------ session changes
    def apply_source(self, source, spec: str | None) -> None:
        session = self.session
        session.check_fits(source=source)
        had_source = session.source is not None
        session.use_source(source, spec)
        reset = not had_source or self.config.reset_on_source_change
        if had_source and reset and session.runner is not None:
            self.counters.count_reset()
        self._prepare(reset_state=reset)
        if had_source:
            self.observers.status(EngineEvent("source_changed", source.description))

    def apply_model(self, checkpoint) -> None:
        session = self.session
        session.check_fits(checkpoint=checkpoint)
        had_model = session.checkpoint is not None
        session.use_model(checkpoint)
        self._prepare(new_model=True)
        if had_model:
            self.observers.status(EngineEvent("model_changed", f"model {checkpoint.sha256[:12]}"))

    def _prepare(self, *, reset_state: bool = True, new_model: bool = False) -> None:
        if not self.session.prepare(reset_state=reset_state, new_model=new_model,
                                    retire_binner=self.counters.retire_binner):
            return
        self.stepper.clear()
        self._source_error = None
        self.finished = False
        self._pacer = self._new_pacer()
        if self.on_thread:
            self.ended.clear()
            self.counters.set_state(self.mode)

    # ------------------------------------------------------------------ the thread
    def begin(self, *, paused: bool) -> None:
        """Before the thread starts: a fresh run."""
        self.stop_requested = False
        self.finished = False
        self.ended.clear()
        self.mode = "paused" if paused else "running"
        self.counters.set_state(self.mode)

    def run(self) -> None:
        self.on_thread = True
        try:
            self._loop()
        except BaseException as exc:  # reported, never swallowed: stats().error and status
            self.error = exc
            message = str(exc) if isinstance(exc, LiveSnnError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, LiveSnnError):
                log.exception("engine failed")
            self.counters.fail(message)
            self.counters.set_state("failed")
            self.observers.status(EngineEvent("failed", message))
        finally:
            self.on_thread = False
            self.session.close_feed()
            self.ended.set()

    def _loop(self) -> None:
        session = self.session
        while True:
            self._apply_commands()
            if self.stop_requested:
                if not self.finished:  # a finished run keeps "finished" in its summary
                    self.counters.set_state("stopped")
                    self.observers.status(EngineEvent("stopped", self.stop_reason))
                return
            if self.finished:
                if not session.seekable:
                    return
                self.commands.idle(0.2)
                continue
            wants_bin = self.mode == "running" or self.steps_requested > 0
            if session.live:
                self._follow_live()
                if not wants_bin:
                    self.commands.idle(0.02)
                    continue
            elif not wants_bin:
                self.commands.idle(0.2)
                continue
            closed = session.feed.next_bin()
            if closed is None:
                if session.feed.ended:
                    self._end_of_stream()
                continue
            paced = self.mode == "running" and not session.live and self._pacer is not None
            if paced and not self._pace(closed):
                session.feed.put_back(closed)
                continue
            self.stepper.step(closed, emit=True)
            if self.mode == "paused" and self.steps_requested > 0:
                self.steps_requested -= 1

    def _follow_live(self) -> None:
        """Paused or not, a live source keeps arriving: bin it and apply the policy."""
        session = self.session
        if session.feed is None:
            session.open_live_feed()
        feed = session.feed
        end = feed.poll(0.02)
        self.counters.count_overflow(feed.take_dropped_events())
        if end is not None:
            self._on_stream_end(end)
        lag = session.feed.lag_ms() if session.feed is not None else None
        if lag is not None:
            self.counters.set_lag(lag, len(session.feed.pending))

    def _apply_commands(self) -> None:
        for name, arg in self.commands.take():
            if name == "pause":
                self._set_mode("paused")
            elif name == "resume":
                self._set_mode("running")
            elif name == "step":
                if self.mode == "paused":
                    self.steps_requested += 1
            elif name == "seek":
                self._seek(arg)
            elif name == "reset":
                self._manual_reset()
            elif name == "speed":
                self.config = dataclasses.replace(self.config, speed=arg)
                self._pacer = self._new_pacer()
            elif name == "stop":
                self.stop_requested = True
                self.stop_reason = arg or STOP_REASON

    def _set_mode(self, mode: str) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        self._restart_pacing()
        self.steps_requested = 0
        if not self.finished:
            self.counters.set_state(mode)
        self.observers.status(EngineEvent("paused" if mode == "paused" else "resumed", mode))

    # ---- what the feeds report ----------------------------------------------------------
    def on_batch(self, batch: EventBatch) -> None:
        self.counters.add_events(len(batch))
        self.observers.batch(batch)

    def on_skip(self, closed: ClosedBin) -> None:
        self.stepper.skipped(closed)

    def on_jump(self, message: str) -> None:
        self.observers.status(EngineEvent("clock_jump", message))

    def _on_stream_end(self, end: StreamEnd) -> None:
        error = end.error
        if error is not None and not isinstance(error, SourceError):
            raise error
        if error is not None:
            self.observers.status(EngineEvent("stream_dropped", str(error)))
            dropped = isinstance(error, StreamDroppedError)
            if dropped and self.session.reconnectable:
                self._run_pending()
                if self._reconnect(error):
                    return
            self._source_error = self._source_error or error
        self.session.feed.finish()

    def _run_pending(self) -> None:
        """Step the bins that closed before the stream dropped now, rather than after the
        reconnection attempts (a paused engine keeps them waiting, as any bin)."""
        while self.mode == "running" and not self.stop_requested:
            closed = self.session.feed.next_bin()
            if closed is None:
                return
            self.stepper.step(closed, emit=True)

    def _reconnect(self, error: BaseException) -> bool:
        """Bounded retries with a doubling delay; True once the stream is back (or a stop
        was requested meanwhile)."""
        from live_snn.sources.network import NetworkSource

        session, spec = self.session, self.session.spec
        last = error
        delay = self.config.reconnect_delay_s
        attempts = self.config.reconnect_attempts
        budget = self.config.max_reconnects
        done = self.counters.snapshot().reconnects
        spent = budget_spent(error, spec, done, budget)
        if spent is not None:
            self._source_error = spent
            self.observers.status(EngineEvent("stream_dropped", str(self._source_error)))
            return False
        for attempt in range(1, attempts + 1):
            self.observers.status(EngineEvent(
                "reconnecting", attempt_line(spec, attempt, attempts, delay, done, budget)))
            self.commands.idle(delay)
            self._apply_commands()
            if self.stop_requested:
                return True
            try:
                source = NetworkSource(spec, stall_timeout_s=self.config.stall_timeout_s)
                session.feed.replace_source(source)
            except SourceError as exc:
                last = exc
                delay = min(2 * delay, self.config.reconnect_max_delay_s)
                continue
            session.source, session.source_closed = source, False
            self.counters.retire_binner()
            if self.config.reset_on_source_change:
                self.stepper.reset_model("reconnected")
            self.counters.count_reconnect()
            self.observers.status(EngineEvent("reconnected", f"reconnected to {spec}"))
            return True
        self._source_error = attempts_spent(error, spec, attempts, last)
        self.observers.status(EngineEvent("stream_dropped", str(self._source_error)))
        return False

    def _end_of_stream(self) -> None:
        self.finished = True
        error = self._source_error
        if error is None and not self.session.live:
            error = self.session.feed.error  # a damaged file: every bin before it was run
        if error is not None:
            self.error = error
        self.observers.status(EngineEvent("finished", self.counters.finish(error)))
        self.ended.set()

    # ---- pacing, seek, reset ------------------------------------------------------------
    def _new_pacer(self) -> Pacer | None:
        """Replay at ``speed`` × real time on the latency clocks' clock; None: as fast as
        possible."""
        speed = self.config.speed
        return None if speed is None else Pacer(speed, clock=time.perf_counter)

    def _restart_pacing(self) -> None:
        """The replay clock re-anchors at the next bin (after a pause or a seek)."""
        if self._pacer is not None:
            self._pacer.restart()

    def _pace(self, closed: ClosedBin) -> bool:
        """Wait until the bin's end is due at ``speed`` × real time; False if a command
        arrived meanwhile (the bin is then put back)."""
        release = self._pacer.due(closed.frame.t_end, start_us=closed.frame.t_start)
        while not self._pacer.wait(release, self.commands.wake, slice_s=0.05):
            if self.commands.pending():
                return False
            self.commands.wake.clear()
        closed.release = release
        return True

    def _seek(self, t_us: int) -> None:
        feed: ReplayFeed = self.session.feed
        target = feed.bin_of(t_us)
        first = self.stepper.restore(target)
        self.counters.retire_binner()
        feed.restart_at(first)
        while True:  # fast-forward silently to the target bin
            closed = feed.next_bin()
            if closed is None:
                break
            if closed.frame.index >= target:
                feed.put_back(closed)
                break
            self.stepper.step(closed, emit=False)
        self._source_error = None
        self.finished = False
        self.ended.clear()
        self._restart_pacing()
        self.counters.set_state(self.mode)
        self.observers.status(EngineEvent(
            "seeked", f"bin {target} (restored bin {first}, fast-forwarded {target - first})",
            bin=target,
        ))

    def _manual_reset(self) -> None:
        # Snapshots no longer describe this run's history: a later seek replays from the
        # recording (snapshots refill as bins are processed again).
        self.session.store.clear()
        self.stepper.reset_model("manual reset")
