"""Status bar: events/s, steps/s, real-time factor, per-stage latency p50/p95, skipped bins
and the device, from the engine's :class:`EngineStats` snapshots."""

from __future__ import annotations

import math
import time

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from live_snn.engine import LATENCY_STAGES, EngineStats

STAGE_SHORT = {
    "event_to_bin": "bin",
    "queue": "queue",
    "step": "step",
    "bin_to_prediction": "bin→pred",
}


def _si(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    for factor, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.1f} {suffix}"
    return f"{value:.0f} "


def _ms(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.events_label = QLabel("– ev/s")
        self.steps_label = QLabel("– steps/s")
        self.rtf_label = QLabel("RTF –")
        self.latency_label = QLabel("latency –")
        self.skipped_label = QLabel("skipped 0")
        self.device_label = QLabel("device –")
        for label in (self.events_label, self.steps_label, self.rtf_label, self.latency_label,
                      self.skipped_label, self.device_label):
            self.addPermanentWidget(label)
        self.latency_label.setToolTip(
            "p50 / p95 in ms per stage: bin = newest event → bin closed, queue = waiting for "
            "the model, step = model step, bin→pred = bin closed → prediction ready"
        )
        self._last_events: tuple[int, float] | None = None

    def set_device(self, device: str, conv_dtype: str = "float32") -> None:
        """Where the model runs, and its convolutions' arithmetic when it is not float32
        (bfloat16 does not give float32's spikes: the user should see which one runs)."""
        extra = "" if conv_dtype == "float32" else f", {conv_dtype} conv"
        self.device_label.setText(f"device {device}{extra}")

    def show_stats(self, stats: EngineStats, *, events_total: int | None = None,
                   now_s: float | None = None) -> None:
        """``events_total``: events in the bins predicted so far (the engine reads a file
        ahead in large batches, so its own input counter moves in jumps); the rate is taken
        over at least half a second so that it does not flicker."""
        now_s = time.perf_counter() if now_s is None else now_s
        total = stats.events_in if events_total is None else events_total
        last = self._last_events
        if last is None or total < last[0]:
            self._last_events = (total, now_s)
        elif now_s - last[1] >= 0.5:
            rate = (total - last[0]) / (now_s - last[1])
            self.events_label.setText(f"{_si(rate)}ev/s")
            self._last_events = (total, now_s)
        self.steps_label.setText(f"{stats.steps_per_s:.1f} steps/s")
        rtf = stats.realtime_factor
        self.rtf_label.setText(f"RTF {rtf:.2f}×" if math.isfinite(rtf) else "RTF –")
        parts = []
        for stage in LATENCY_STAGES:
            summary = stats.latency.get(stage)
            if summary is not None and summary.count:
                parts.append(f"{STAGE_SHORT.get(stage, stage)} {_ms(summary.p50)}/{_ms(summary.p95)}")
        self.latency_label.setText("p50/p95 ms: " + (" · ".join(parts) if parts else "–"))
        self.skipped_label.setText(f"skipped {stats.bins_skipped}")
        self.events_label.setToolTip(f"{stats.events_in} events in, "
                                     f"{stats.events_dropped_total} dropped")

    def reset_rates(self) -> None:
        self._last_events = None
        self.events_label.setText("– ev/s")
