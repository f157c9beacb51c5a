"""The thread of a multi-stream engine: bin what each stream delivered, then step every
stream that has a closed bin in one batched model call, and hand each its Prediction.

A bin is stepped as soon as the engine is free, together with every other stream's bin that
closed meanwhile, and with those of the live streams whose bin is due within
``gather_ms`` (``EngineConfig.batch_gather_ms``): cameras close a bin one bin length after
the last, so a stream's next close is known to within its packet jitter. Without that short
wait a bin that closes just after a call starts waits for the whole call, and the calls split
into smaller ones that cost more per stream; with it, cameras closing their bins together
share one call. While one batched step runs, bins of the other streams close, so a busy
engine steps larger batches (cheaper per stream). A stream with a backlog steps one bin per
call, in order.

The thread sleeps until a reader says events arrived (or a reconnection has news), a paced
replay's next bin is due, or ``SWEEP_S`` has passed: then every live stream is polled, so
that bins close on a still scene's clock. While bins gather it sleeps until a reader's news,
the next sweep or the gathering's deadline, whichever comes first.
"""

from __future__ import annotations

import logging
import threading
import time

from live_snn.engine.batched_runner import BatchedRunner
from live_snn.engine.commands import STOP_REASON, CommandQueue
from live_snn.engine.frame_cutter import ClosedBin
from live_snn.engine.multi_stats import BatchCounters
from live_snn.engine.stream_lane import StreamLane
from live_snn.errors import LiveSnnError

log = logging.getLogger("live_snn.engine")

SWEEP_S = 0.02   # every live stream is polled at least this often (the single engine's poll)


class MultiRunLoop:
    def __init__(self, runner: BatchedRunner, lanes: list[StreamLane], *,
                 commands: CommandQueue, counters: BatchCounters, ended: threading.Event,
                 record_taps: bool, gather_ms: float = 0.0):
        self.runner = runner
        self.lanes = lanes
        self.commands = commands
        self.counters = counters
        self.ended = ended
        self.record_taps = record_taps
        self.gather_s = gather_ms / 1e3
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # the shared model broke: every stream ends with it
            self.error = exc
            message = str(exc) if isinstance(exc, LiveSnnError) else \
                f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, LiveSnnError):
                log.exception("multi-stream engine failed")
            self.counters.fail(message)
            self.counters.set_state("failed")
            for lane in self.lanes:
                if lane.active:
                    lane.fail(exc)
        finally:
            for lane in self.lanes:
                lane.close()
            self.ended.set()

    def _loop(self) -> None:
        lanes, wake = self.lanes, self.commands.wake
        gather_s = self.gather_s
        next_sweep = 0.0
        ready: dict[StreamLane, ClosedBin] = {}   # one bin per stream, for the next call
        first_ready = 0.0                           # when the oldest of them was taken
        while True:
            wake.clear()  # before looking: whatever sets it from now on wakes the wait below
            stop_reason = self._apply_commands()
            if stop_reason is not None:
                for lane in lanes:
                    lane.stop(stop_reason)
                self.counters.set_state("stopped")
                return
            now = time.perf_counter()
            sweep = now >= next_sweep
            if sweep:
                next_sweep = now + SWEEP_S
            for lane in lanes:
                if lane.arrived or (sweep and lane.active):
                    lane.arrived = False
                    lane.poll()
            for lane in lanes:
                if lane not in ready:
                    closed = lane.next_bin(now)
                    if closed is not None:
                        if not ready:
                            first_ready = now
                        ready[lane] = closed
            if ready:
                deadline = first_ready + gather_s
                if now < deadline and self._closing_soon(ready, first_ready - gather_s,
                                                         deadline):
                    # until the deadline, or the next sweep (a still camera's bins close
                    # on it), or a reader's news
                    wait = min(deadline, next_sweep) - time.perf_counter()
                    if wait > 0:
                        wake.wait(wait)
                    continue
                steppable = [(lane, closed) for lane, closed in ready.items() if lane.steppable]
                ready.clear()
                if steppable:  # a stream may have failed or ended while the bins gathered
                    self._step(steppable)
                continue
            if not any(lane.active for lane in lanes):
                self.counters.set_state("finished")
                return
            timeout = next_sweep - time.perf_counter()
            for lane in lanes:
                if lane.due is not None:
                    timeout = min(timeout, lane.due - time.perf_counter())
            if timeout > 0:
                wake.wait(timeout)

    def _closing_soon(self, ready: dict, start: float, end: float) -> bool:
        """A live stream without a bin in ``ready`` is due to close one within [start, end]:
        worth waiting for, since a bin that just misses a call waits for that whole call."""
        return any(lane not in ready and lane.closes_between(start, end) for lane in self.lanes)

    def _step(self, ready: list[tuple[StreamLane, ClosedBin]]) -> None:
        for lane, closed in ready:
            lane.prepare(closed)
        step_start = time.perf_counter()
        result = self.runner.step([lane.row for lane, _ in ready],
                                  [closed.frame.counts for _, closed in ready],
                                  taps=self.record_taps)
        self.counters.record_step(len(ready), result.step_ms)
        for i, (lane, closed) in enumerate(ready):
            try:
                prediction = lane.emit(closed, result.scores[i], result.attention[i],
                                       result.spike_rates[i], step_start=step_start,
                                       step_ms=result.step_ms)
            except LiveSnnError as exc:  # e.g. its predictions file hit a full disk
                lane.fail(exc)
                continue
            self.counters.record_latency(prediction.latency_ms)

    def _apply_commands(self) -> str | None:
        """Apply queued commands; the reason given when a stop was asked for, else None."""
        stop = None
        for name, arg in self.commands.take():
            if name == "stop":
                stop = arg or STOP_REASON
            elif name == "reset":
                for lane in self.lanes:
                    if lane.active and arg in (None, lane.name):
                        lane.reset("manual reset")
        return stop
