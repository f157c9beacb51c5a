"""One stream of a multi-stream engine: everything a stream owns except the network itself.

A :class:`StreamLane` holds its source and feed (binner, event clock, backpressure), its row
of the shared network state (stepped by the engine's
:class:`~live_snn.engine.batched_runner.BatchedRunner`), its predictor, its counters and its
observers. It is the single-stream engine's session, stepper and reconnection policy cut
down to what one stream of many needs: the engine thread calls :meth:`~StreamLane.poll`
(bin what arrived), :meth:`~StreamLane.next_bin`, and around the batched step
:meth:`~StreamLane.prepare` (resets due before a bin) and :meth:`~StreamLane.emit` (the
Prediction). A stream that drops, reconnects, resets or ends touches its own row only, and
its reconnection attempts run on a thread of their own (:mod:`live_snn.engine.reconnect`).

Lifecycle (``phase``): ``running`` → on a drop, ``draining`` (the bins closed before the
drop are stepped first, as the single-stream engine does) → ``reconnecting`` → ``running``
again, or ``ending`` (the open bin is flushed and stepped) → ``finished``; ``failed`` when
the source broke in a way no reconnection mends; ``stopped`` on request.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import torch

from live_snn.engine.commands import STOP_REASON
from live_snn.engine.config import EngineConfig, EngineEvent
from live_snn.engine.frame_cutter import ClosedBin
from live_snn.engine.live import LiveFeed
from live_snn.engine.live_reader import StreamEnd
from live_snn.engine.observers import Observers
from live_snn.engine.predictor import Predictor, PredictorConfig
from live_snn.engine.reconnect import Reconnector, attempt_line, attempts_spent, budget_spent
from live_snn.engine.records import Prediction, SessionInfo
from live_snn.engine.replay import ReplayFeed
from live_snn.engine.session import (
    describe_session,
    open_live_feed,
    runtime_binning,
    silence_bins,
)
from live_snn.engine.stats import EngineCounters
from live_snn.engine.stepper import bin_latency, count_bin, ground_truth_at, make_prediction
from live_snn.errors import LiveSnnError, SourceError, StreamDroppedError
from live_snn.events import EventBatch, Resolution
from live_snn.pacing import Pacer

ACTIVE_PHASES = ("running", "draining", "reconnecting", "ending")
FINAL_PHASES = ("finished", "failed", "stopped")
STEPPING_PHASES = ("running", "draining", "ending")   # bins taken from it are stepped
STATUS_KEPT = 64   # a stream's newest status events, for its summary


class StreamLane:
    """See the module docstring. ``reopen``: opens the stream again after a drop (None: a
    dropped stream ends); ``on_wake``: called from any thread when the lane has something
    for the engine thread (events arrived, a reconnection attempt ended)."""

    def __init__(self, name: str, source, *, row: int, config: EngineConfig, checkpoint,
                 device: torch.device, spec: str | None = None,
                 reopen: Callable[[], object] | None = None,
                 on_wake: Callable[[], None] = lambda: None):
        self.name = name
        self.row = row
        self.source = source
        self.spec = spec
        self.config = config
        self.reopen = reopen
        self._on_wake = on_wake
        self.live = bool(source.is_live)
        self.binning = runtime_binning(checkpoint.binning, Resolution.of(source.resolution),
                                       live=self.live, allow_remap=config.allow_remap)
        self.counters = EngineCounters(config.latency_window)
        self.observers = Observers(config.keep_latest)
        self.history: deque[EngineEvent] = deque(maxlen=STATUS_KEPT)
        self.predictor = Predictor(
            config.predictor_config(PredictorConfig.from_readout(checkpoint.readout)),
            int(checkpoint.model.num_classes))
        self.silence_bins = silence_bins(config.reset_on_silence_ms, self.binning.dt_us)
        self.feed: LiveFeed | ReplayFeed | None = None
        if not self.live:
            self.feed = ReplayFeed(source, self.binning, on_batch=self._on_batch,
                                   keep_sensor_frames=config.keep_sensor_frames,
                                   chunk_bins=config.chunk_bins)
        self._pacer = (None if self.live or config.speed is None
                       else Pacer(config.speed, clock=time.perf_counter))
        self.info: SessionInfo = describe_session(
            source, checkpoint, self.binning, live=self.live, seekable=False,
            replay=self.feed if not self.live else None, device=device,
            config=config, predictor=self.predictor.config)
        self.class_names = self.info.class_names
        self.phase = "waiting"
        self.error: BaseException | None = None   # why the stream ended early, if it did
        self.arrived = False                      # set by the reader: poll me
        self.due: float | None = None             # a paced replay's next bin is due then
        self.next_close: float | None = None      # live: when its next bin should close
        self._runner = None
        self._reconnector: Reconnector | None = None
        self._drop_error: BaseException | None = None
        self._source_error: BaseException | None = None
        self._empty_run = 0
        self._reset_due = False
        self._skipped_since = 0

    # ------------------------------------------------------------------ engine thread
    @property
    def active(self) -> bool:
        return self.phase in ACTIVE_PHASES

    @property
    def follows_source(self) -> bool:
        """A live stream whose feed has to be polled for new events."""
        return self.live and self.phase == "running"

    @property
    def steppable(self) -> bool:
        """A bin taken from it may still be stepped (it has not failed or stopped since)."""
        return self.phase in STEPPING_PHASES

    def closes_between(self, start: float, end: float) -> bool:
        """A live stream whose next bin should close within [start, end] (perf_counter):
        a camera's bins close one bin length apart, so the last close predicts the next."""
        return (self.follows_source and self.next_close is not None
                and start <= self.next_close <= end)

    def start(self, runner) -> None:
        """Start reading (a live source's reader thread starts now)."""
        self._runner = runner
        self.phase = "running"
        self.counters.set_state("running")
        if self.live:
            self.feed = open_live_feed(self.config, self.source, self.binning,
                                       on_batch=self._on_batch, on_skip=self._skipped,
                                       on_jump=lambda message: self.status("clock_jump", message),
                                       on_arrival=self._arrival)
        self.status("started", self.source.description)

    def poll(self) -> None:
        """Bin what has arrived (live), follow a reconnection; never blocks."""
        try:
            if self.phase == "reconnecting":
                self._follow_reconnection()
            elif self.follows_source:
                self._follow_live()
        except LiveSnnError as exc:
            self.fail(exc)

    def next_bin(self, now: float) -> ClosedBin | None:
        """This stream's next bin to step now, or None (none closed, not due yet, or the
        stream moved on to its next phase)."""
        self.due = None
        if self.phase == "draining" and not self.feed.pending:
            self._begin_reconnection()
            return None
        if self.phase not in STEPPING_PHASES:
            return None
        try:
            closed = self.feed.next_bin()
        except Exception as exc:  # a source that broke while read on this thread
            self.fail(exc)
            return None
        if closed is None:
            if self.feed.ended and (self.phase == "ending" or not self.live):
                self._end_of_stream()
            return None
        if self._pacer is not None:
            release = self._pacer.due(closed.frame.t_end, start_us=closed.frame.t_start)
            if now < release:
                self.feed.put_back(closed)
                self.due = release
                return None
            closed.release = release
        elif self.live:
            self.next_close = closed.closed_at + self.binning.dt_us / 1e6
        return closed

    def prepare(self, closed: ClosedBin) -> None:
        """Before ``closed`` is stepped: the resets due (a re-anchored clock, a silence)."""
        frame = closed.frame
        silence_reset = self._count_silence(frame.n_events) or self._reset_due
        self._reset_due = False
        if closed.reset_before is not None:
            self.reset("clock re-anchored after a jump", frame.index)
        elif silence_reset:
            self.reset(f"{self.config.reset_on_silence_ms:g} ms without events", frame.index)

    def emit(self, closed: ClosedBin, scores, attention: dict, spike_rates: dict, *,
             step_start: float, step_ms: float) -> Prediction:
        """After the batched step: this bin's Prediction, counted and handed out."""
        out = self.predictor.update(scores)
        done = time.perf_counter()
        frame = closed.frame
        prediction = make_prediction(
            closed, out, scores=scores, attention=attention, spike_rates=spike_rates,
            class_names=self.class_names,
            ground_truth=ground_truth_at(self.source, frame.t_start, frame.t_end),
            latency=bin_latency(closed, step_start, step_ms, done),
            skipped_before=self._skipped_since)
        self._skipped_since = 0
        count_bin(self.counters, self.feed.binner_stats, prediction, self.binning.dt_us, done)
        self.observers.prediction(prediction)
        return prediction

    def reset(self, why: str, bin_index: int | None = None) -> None:
        """This stream's row and smoothing back at their initial state, and say so."""
        self._runner.reset_row(self.row)
        self.predictor.reset()
        self.counters.count_reset()
        self.status("reset", why, bin_index)

    def fail(self, error: BaseException) -> None:
        """This stream broke (the others go on): report it and let go of its row."""
        message = str(error) if isinstance(error, LiveSnnError) else \
            f"{type(error).__name__}: {error}"
        self.error = error
        self.counters.fail(message)
        self.counters.set_state("failed")
        self.status("failed", message)
        self._leave("failed")

    def stop(self, reason: str = STOP_REASON) -> None:
        if self.phase not in FINAL_PHASES:
            self.counters.set_state("stopped")
            self.status("stopped", reason)
            self._leave("stopped")
        self.close()

    def close(self) -> None:
        if self._reconnector is not None:
            self._reconnector.cancel()
        if self.feed is not None:  # a feed closes its source
            self.feed.close()
        else:  # a live stream that never started
            self.source.close()

    def status(self, kind: str, message: str, bin_index: int | None = None) -> None:
        event = EngineEvent(kind, message, bin=bin_index)
        self.history.append(event)
        self.observers.status(event)

    # ------------------------------------------------------------------ internals
    def _arrival(self) -> None:
        self.arrived = True
        self._on_wake()

    def _on_batch(self, batch: EventBatch) -> None:
        self.counters.add_events(len(batch))
        self.observers.batch(batch)

    def _skipped(self, closed: ClosedBin) -> None:
        self.counters.record_skipped(1, self.binning.dt_us, closed.frame.n_events)
        self._skipped_since += 1
        if self._count_silence(closed.frame.n_events):
            self._reset_due = True

    def _count_silence(self, n_events: int) -> bool:
        self._empty_run = self._empty_run + 1 if n_events == 0 else 0
        return self.silence_bins is not None and self._empty_run == self.silence_bins

    def _follow_live(self) -> None:
        feed = self.feed
        end = feed.poll(0.0)
        self.counters.count_overflow(feed.take_dropped_events())
        if end is not None:
            self._on_stream_end(end)
        lag = feed.lag_ms()
        if lag is not None:
            self.counters.set_lag(lag, len(feed.pending))

    def _on_stream_end(self, end: StreamEnd) -> None:
        error = end.error
        if error is not None and not isinstance(error, SourceError):
            self.fail(error)
            return
        if error is not None:
            self.status("stream_dropped", str(error))
            if isinstance(error, StreamDroppedError) and self.reopen is not None:
                self._drop_error = error
                self.phase = "draining"
                return
            self._source_error = self._source_error or error
        self._finish_feed()

    def _finish_feed(self) -> None:
        """No more events: the open bin is data too; then the stream ends."""
        self.feed.finish()
        self.phase = "ending"
        self.counters.set_state("running")

    def _begin_reconnection(self) -> None:
        config, spec, error = self.config, self.spec or self.source.description, \
            self._drop_error
        budget = config.max_reconnects
        done = self.counters.snapshot().reconnects
        spent = budget_spent(error, spec, done, budget)
        if spent is not None:
            self._give_up(spent)
            return
        attempts = config.reconnect_attempts

        def describe(attempt: int, delay_s: float) -> str:
            return attempt_line(spec, attempt, attempts, delay_s, done, budget)

        self.phase = "reconnecting"
        self.counters.set_state("reconnecting")
        self._reconnector = Reconnector(
            self.reopen, attempts=attempts, delay_s=config.reconnect_delay_s,
            max_delay_s=config.reconnect_max_delay_s, describe=describe,
            on_news=self._arrival).start()

    def _follow_reconnection(self) -> None:
        reconnector = self._reconnector
        for line in reconnector.news():
            self.status("reconnecting", line)
        if not reconnector.done:
            return
        self._reconnector = None
        source = reconnector.take_source()
        spec = self.spec or self.source.description
        if source is None:
            last = reconnector.last_error
            if last is not None and not isinstance(last, SourceError):
                self.fail(last)
                return
            self._give_up(attempts_spent(self._drop_error, spec, reconnector.attempts,
                                         last or self._drop_error))
            return
        try:
            self.feed.replace_source(source)  # closes a source of another sensor
        except SourceError as exc:
            self._give_up(StreamDroppedError(f"{self._drop_error}; {exc}"))
            return
        self.source = source
        self.counters.retire_binner()
        self.phase = "running"
        self.counters.set_state("running")
        if self.config.reset_on_source_change:
            self.reset("reconnected")
        self.counters.count_reconnect()
        self.status("reconnected", f"reconnected to {spec}")

    def _give_up(self, error: StreamDroppedError) -> None:
        self._source_error = error
        self.status("stream_dropped", str(error))
        self._finish_feed()

    def _end_of_stream(self) -> None:
        error = self._source_error
        if error is None and not self.live:
            error = self.feed.error  # a damaged file: every bin before it was run
        if error is not None:
            self.error = error
        self.status("finished", self.counters.finish(error))
        self._leave("finished")

    def _leave(self, phase: str) -> None:
        """Final phase: the row is let go of and the source closed."""
        self.phase = phase
        if self._runner is not None:
            self._runner.release_row(self.row)
        if self._reconnector is not None:
            self._reconnector.cancel()
            self._reconnector = None
        if self.feed is not None:
            self.feed.close()
