from __future__ import annotations

import math

import numpy as np
import pytest

from live_snn.engine.stats import ActiveClock, EngineCounters, LatencyRing, RateMeter


def test_latency_ring_percentiles_over_recent_samples_only():
    ring = LatencyRing(capacity=100)
    for v in range(1000):  # only the last 100 (900..999) remain
        ring.add(float(v))
    s = ring.summary()
    recent = np.arange(900, 1000, dtype=np.float64)
    assert s.count == 1000
    assert s.p50 == pytest.approx(np.percentile(recent, 50))
    assert s.p99 == pytest.approx(np.percentile(recent, 99))
    assert s.max == 999.0 and s.mean == pytest.approx(recent.mean())


def test_empty_ring_is_nan_not_zero():
    s = LatencyRing(8).summary()
    assert s.count == 0 and math.isnan(s.p50)


def test_rate_meter_counts_steps_per_second():
    meter = RateMeter(window=10)
    for i in range(50):
        meter.tick(i * 0.01)  # 100 Hz
    assert meter.rate() == pytest.approx(100.0)


def test_active_clock_excludes_pauses():
    clock = ActiveClock()
    clock.run(now=10.0)
    clock.hold(now=12.0)      # 2 s running
    clock.run(now=100.0)      # 88 s paused: not counted
    assert clock.elapsed(now=101.5) == pytest.approx(3.5)


def test_counters_snapshot_merges_drop_reasons_and_realtime_factor():
    c = EngineCounters(latency_window=16)
    c.set_state("running", now=0.0)
    c.add_events(500)
    c.drop("backpressure", 7)
    c.set_binner_dropped({"dropped_out_of_range": 3, "dropped_outside_crop": 0})
    c.retire_binner()
    c.set_binner_dropped({"dropped_out_of_range": 2})
    c.record_skipped(2, 10_000, events=40)
    for k in range(8):
        c.record_bin({"step": 1.0 + k}, 10_000, (k + 1) * 10_000, now=k * 0.01)
    c.set_state("finished", now=0.05)
    s = c.snapshot()
    assert s.events_in == 500
    assert s.events_dropped == {"backpressure": 7, "dropped_out_of_range": 5, "skipped_bins": 40}
    assert s.events_dropped_total == 52
    assert (s.bins, s.bins_skipped) == (8, 2)
    # 10 bins of 10 ms of data covered in 0.05 s of running time
    assert s.realtime_factor == pytest.approx(0.1 / 0.05)
    assert s.latency["step"].count == 8 and s.latency["step"].max == 8.0
    summary = s.as_dict()
    assert summary["events_dropped"] == 52 and summary["latency_ms"]["step"]["count"] == 8
