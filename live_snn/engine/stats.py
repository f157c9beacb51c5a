"""Clocks and counters of the engine: latency samples per stage in bounded rings (recent
percentiles via NumPy), a step-rate meter, and the event/bin counters. Written by the engine
thread, read as a consistent snapshot from any thread under one lock."""

from __future__ import annotations

import threading
import time
from collections import Counter

import numpy as np

from live_snn.engine.records import LATENCY_STAGES, EngineStats, LatencySummary


class LatencyRing:
    """The last ``capacity`` samples of one stage (ms), preallocated; O(1) per sample."""

    def __init__(self, capacity: int = 8192):
        if capacity < 1:
            raise ValueError(f"latency ring capacity must be >= 1, got {capacity}")
        self._samples = np.zeros(capacity, dtype=np.float64)
        self._next = 0
        self.count = 0

    def add(self, ms: float) -> None:
        self._samples[self._next] = ms
        self._next = (self._next + 1) % self._samples.shape[0]
        self.count += 1

    def recent(self) -> np.ndarray:
        return self._samples[: min(self.count, self._samples.shape[0])].copy()

    def summary(self) -> LatencySummary:
        recent = self.recent()
        if recent.size == 0:
            return LatencySummary.empty()
        p50, p95, p99 = np.percentile(recent, [50.0, 95.0, 99.0])
        return LatencySummary(
            float(p50), float(p95), float(p99), float(recent.mean()), float(recent.max()), self.count
        )

    def clear(self) -> None:
        self._next = 0
        self.count = 0


class RateMeter:
    """Events per wall second over the last ``window`` stamps."""

    def __init__(self, window: int = 256):
        self._stamps = np.zeros(window, dtype=np.float64)
        self._next = 0
        self._count = 0

    def tick(self, now: float) -> None:
        self._stamps[self._next] = now
        self._next = (self._next + 1) % self._stamps.shape[0]
        self._count += 1

    def rate(self) -> float:
        n = min(self._count, self._stamps.shape[0])
        if n < 2:
            return 0.0
        newest = self._stamps[(self._next - 1) % self._stamps.shape[0]]
        oldest = self._stamps[self._next % self._stamps.shape[0]] if self._count > n else self._stamps[0]
        span = newest - oldest
        return (n - 1) / span if span > 0 else 0.0

    def clear(self) -> None:
        self._next = 0
        self._count = 0


class ActiveClock:
    """Wall time spent running, pauses excluded (for the real-time factor)."""

    def __init__(self) -> None:
        self._accumulated = 0.0
        self._since: float | None = None

    def run(self, now: float | None = None) -> None:
        if self._since is None:
            self._since = time.perf_counter() if now is None else now

    def hold(self, now: float | None = None) -> None:
        if self._since is not None:
            self._accumulated += (time.perf_counter() if now is None else now) - self._since
            self._since = None

    def elapsed(self, now: float | None = None) -> float:
        running = 0.0
        if self._since is not None:
            running = (time.perf_counter() if now is None else now) - self._since
        return self._accumulated + running


class EngineCounters:
    """All of the engine's live statistics; ``snapshot()`` is safe from any thread."""

    def __init__(self, latency_window: int = 8192):
        self._lock = threading.Lock()
        self._latency = {stage: LatencyRing(latency_window) for stage in LATENCY_STAGES}
        self._steps = RateMeter()
        self.clock = ActiveClock()
        self.state = "idle"
        self.events_in = 0
        self.dropped: Counter[str] = Counter()
        self.bins = 0
        self.bins_skipped = 0
        self.data_us = 0            # source time covered by predicted and skipped bins
        self.data_time_us = 0       # end of the last predicted bin
        self.lag_ms = 0.0
        self.pending_bins = 0
        self.reconnects = 0
        self.resets = 0
        self.error: str | None = None
        self._binner_dropped: Counter[str] = Counter()  # of the current binner
        self._binner_dropped_past: Counter[str] = Counter()  # of binners already replaced

    def set_state(self, state: str, now: float | None = None) -> None:
        """Running states advance the active clock; every other state holds it."""
        with self._lock:
            self.state = state
            if state == "running":
                self.clock.run(now)
            else:
                self.clock.hold(now)

    def set_lag(self, lag_ms: float, pending_bins: int) -> None:
        with self._lock:
            self.lag_ms = lag_ms
            self.pending_bins = pending_bins

    def count_reconnect(self) -> None:
        with self._lock:
            self.reconnects += 1

    def count_reset(self) -> None:
        with self._lock:
            self.resets += 1

    def fail(self, message: str) -> None:
        with self._lock:
            self.error = message

    def finish(self, error: BaseException | None) -> str:
        """The run is over (``error``: why it ended early, if it did): the error is kept and
        the state is finished. Returns the ``finished`` status line."""
        if error is not None:
            self.fail(str(error))
        self.set_state("finished")
        stats = self.snapshot()
        message = f"{stats.bins} bins, {stats.events_in} events"
        if error is not None:
            message += f"; ended early: {error}"
        return message

    # The methods below are called by the engine thread only, each under the lock.
    def add_events(self, n: int) -> None:
        with self._lock:
            self.events_in += n

    def drop(self, reason: str, n: int) -> None:
        if n:
            with self._lock:
                self.dropped[reason] += n

    def count_overflow(self, n: int) -> None:
        """``n`` events the source delivered that a full reader queue dropped: they count in
        ``events_in`` too."""
        self.add_events(n)
        self.drop("ingest_overflow", n)

    def set_binner_dropped(self, by_reason: dict[str, int]) -> None:
        with self._lock:
            self._binner_dropped = Counter({k: v for k, v in by_reason.items() if v})

    def retire_binner(self) -> None:
        """The binner is about to be replaced (seek, reconnect): keep what it dropped."""
        with self._lock:
            self._binner_dropped_past.update(self._binner_dropped)
            self._binner_dropped = Counter()

    def record_bin(self, latency_ms: dict[str, float], dt_us: int, t_end_us: int, now: float) -> None:
        with self._lock:
            for stage, ms in latency_ms.items():
                self._latency[stage].add(ms)
            self._steps.tick(now)
            self.bins += 1
            self.data_us += dt_us
            self.data_time_us = t_end_us

    def record_skipped(self, n_bins: int, dt_us: int, events: int) -> None:
        with self._lock:
            self.bins_skipped += n_bins
            self.data_us += n_bins * dt_us
            if events:
                self.dropped["skipped_bins"] += events

    def snapshot(self) -> EngineStats:
        with self._lock:
            wall_s = self.clock.elapsed()
            dropped = Counter(self.dropped)
            dropped.update(self._binner_dropped_past)
            dropped.update(self._binner_dropped)
            finished = self.state in ("finished", "stopped", "failed")
            steps_per_s = (self.bins / wall_s if wall_s > 0 else 0.0) if finished else self._steps.rate()
            return EngineStats(
                state=self.state,
                events_in=self.events_in,
                events_dropped=dict(dropped),
                bins=self.bins,
                bins_skipped=self.bins_skipped,
                steps_per_s=steps_per_s,
                realtime_factor=(self.data_us / 1e6) / wall_s if wall_s > 0 else 0.0,
                lag_ms=self.lag_ms,
                pending_bins=self.pending_bins,
                latency={stage: ring.summary() for stage, ring in self._latency.items()},
                data_time_us=self.data_time_us,
                wall_s=wall_s,
                reconnects=self.reconnects,
                resets=self.resets,
                error=self.error,
            )
