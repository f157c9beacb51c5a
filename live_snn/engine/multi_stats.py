"""The statistics of a multi-stream engine: each stream's own :class:`EngineStats` (kept by
its lane), plus what only the batch knows — how many batched model calls, how many streams
each one stepped, what a bin cost per stream — and every stream's latencies pooled."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from live_snn.engine.records import LATENCY_STAGES, EngineStats, LatencySummary
from live_snn.engine.stats import ActiveClock, LatencyRing


@dataclass(frozen=True)
class MultiStreamStats:
    """A snapshot of a multi-stream engine (see ``MultiStreamEngine.stats()``)."""

    state: str                                 # idle | running | finished | failed | stopped
    streams: dict[str, EngineStats]            # stream name -> its stats, in the order added
    batched_steps: int                         # batched model calls
    bins_stepped: int                          # bins stepped by them (rows, over all calls)
    max_batch: int                             # most streams stepped in one call
    step_ms_per_bin: LatencySummary            # each call's time / the bins it stepped
    batch_step_ms: LatencySummary              # each call's time
    latency: dict[str, LatencySummary]         # LATENCY_STAGES, every stream's bins pooled
    wall_s: float                              # since start
    error: str | None = None                   # why the whole engine stopped, if it failed

    @property
    def mean_batch(self) -> float:
        return self.bins_stepped / self.batched_steps if self.batched_steps else 0.0

    def totals(self) -> dict:
        """Counts summed over the streams."""
        streams = list(self.streams.values())
        return {
            "streams": len(streams),
            "streams_ended_early": sum(1 for s in streams if s.error),
            "events_in": sum(s.events_in for s in streams),
            "events_dropped": sum(s.events_dropped_total for s in streams),
            "bins": sum(s.bins for s in streams),
            "bins_skipped": sum(s.bins_skipped for s in streams),
            "reconnects": sum(s.reconnects for s in streams),
            "resets": sum(s.resets for s in streams),
            "steps_per_s": sum(s.steps_per_s for s in streams),
        }

    def as_dict(self) -> dict:
        """JSON-ready (NaN as None): totals, batching and pooled latencies; the rows per
        stream are the caller's (it knows what to say about each source)."""
        return _finite({
            "state": self.state,
            "wall_s": self.wall_s,
            "error": self.error,
            **self.totals(),
            "batching": {
                "batched_steps": self.batched_steps,
                "bins_stepped": self.bins_stepped,
                "mean_streams_per_step": self.mean_batch,
                "max_streams_per_step": self.max_batch,
                "step_ms_per_bin": self.step_ms_per_bin.as_dict(),
                "batch_step_ms": self.batch_step_ms.as_dict(),
            },
            "latency_ms": {stage: s.as_dict() for stage, s in self.latency.items()},
        })


def _finite(value):
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class BatchCounters:
    """Written by the engine thread, read from any thread under one lock."""

    def __init__(self, latency_window: int = 8192):
        self._lock = threading.Lock()
        self.clock = ActiveClock()
        self.state = "idle"
        self.error: str | None = None
        self._steps = 0
        self._bins = 0
        self._max_batch = 0
        self._per_bin = LatencyRing(latency_window)
        self._per_call = LatencyRing(latency_window)
        self._pooled = {stage: LatencyRing(latency_window) for stage in LATENCY_STAGES}

    def set_state(self, state: str) -> None:
        with self._lock:
            self.state = state
            if state == "running":
                self.clock.run()
            else:
                self.clock.hold()

    def fail(self, message: str) -> None:
        with self._lock:
            self.error = message

    def record_step(self, bins: int, ms: float) -> None:
        with self._lock:
            self._steps += 1
            self._bins += bins
            self._max_batch = max(self._max_batch, bins)
            self._per_call.add(ms)
            self._per_bin.add(ms / bins)

    def record_latency(self, latency_ms: dict[str, float]) -> None:
        with self._lock:
            for stage, ms in latency_ms.items():
                if not math.isnan(ms):
                    self._pooled[stage].add(ms)

    def snapshot(self, streams: dict[str, EngineStats]) -> MultiStreamStats:
        with self._lock:
            return MultiStreamStats(
                state=self.state,
                streams=streams,
                batched_steps=self._steps,
                bins_stepped=self._bins,
                max_batch=self._max_batch,
                step_ms_per_bin=self._per_bin.summary(),
                batch_step_ms=self._per_call.summary(),
                latency={stage: ring.summary() for stage, ring in self._pooled.items()},
                wall_s=self.clock.elapsed(),
                error=self.error,
            )
