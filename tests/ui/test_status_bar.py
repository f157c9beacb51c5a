from __future__ import annotations

import math

from live_snn.engine.records import EngineStats, LatencySummary
from live_snn_ui.status_bar import StatusBar


def stats(events_in: int, wall_s: float) -> EngineStats:
    step = LatencySummary(2.0, 3.5, 4.0, 2.2, 5.0, 10)
    return EngineStats(
        state="running", events_in=events_in, events_dropped={"outside_crop": 7}, bins=10,
        bins_skipped=3, steps_per_s=50.0, realtime_factor=1.25, lag_ms=0.0, pending_bins=0,
        latency={"step": step, "queue": LatencySummary.empty()}, data_time_us=0, wall_s=wall_s,
    )


def test_shows_rates_latency_skips_and_device(themed_app):
    bar = StatusBar()
    bar.set_device("cpu")
    bar.show_stats(stats(1000, 1.0), events_total=500, now_s=10.0)
    bar.show_stats(stats(21_000, 2.0), events_total=20_500, now_s=11.0)
    assert bar.events_label.text() == "20.0 kev/s"
    assert bar.steps_label.text() == "50.0 steps/s"
    assert bar.rtf_label.text() == "RTF 1.25×"
    assert "step 2.0/3.5" in bar.latency_label.text()
    assert "queue" not in bar.latency_label.text()       # no samples yet: not shown
    assert bar.skipped_label.text() == "skipped 3"
    assert bar.device_label.text() == "device cpu"
    bar.show_stats(EngineStats(**{**stats(0, 0.5).__dict__, "realtime_factor": math.nan}),
                   events_total=30_000, now_s=11.2)
    assert bar.events_label.text() == "20.0 kev/s"        # < 0.5 s later: kept
    assert bar.rtf_label.text() == "RTF –"
    bar.set_device("cpu", "bfloat16")
    assert bar.device_label.text() == "device cpu, bfloat16 conv"
