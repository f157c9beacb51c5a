"""What an engine is told (:class:`EngineConfig`) and what it tells besides predictions
(:class:`EngineEvent`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from live_snn.engine.predictor import PredictorConfig
from live_snn.pacing import check_speed
from live_snn.precision import CONV_DTYPES

BACKPRESSURE_POLICIES = ("skip-oldest", "process-all")
PREDICTOR_SETTINGS = ("smoothing", "ema_tau_steps", "mean_window", "onset_steps",
                      "uncertain_below")
MAX_GATHER_MS = 1000.0   # a bin waiting longer for others than a second is no longer live


@dataclass(frozen=True)
class EngineConfig:
    device: str = "auto"                     # "auto" | "cpu" | "cuda[:N]"
    speed: float | None = None               # files: None = as fast as possible, x = x × real time
    # The predictor's settings; None: the model's own (its checkpoint's readout, which was
    # calibrated and validated under them), else the predictor's defaults.
    smoothing: str | None = None             # "ema" | "mean"
    ema_tau_steps: float | None = None
    mean_window: int | None = None
    onset_steps: int | None = None           # M
    uncertain_below: float | None = None
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
    live_max_jump_s: float | None = 60.0     # live: a clock step beyond this re-anchors the
    #                                          bins and resets the model; None: never
    stall_timeout_s: float | None = 10.0     # network: no bytes this long = stream stalled
    max_reconnects: int = 10                 # network: reconnections over the whole session
    reconnect_attempts: int = 3              # network streams: tries after a drop
    reconnect_delay_s: float = 0.5           # wait before the first try; doubles each time
    reconnect_max_delay_s: float = 4.0       # ...up to this
    batch_gather_ms: float = 4.0             # several streams: a ready bin waits up to this
    #                                          long for the live streams whose bin is due
    #                                          now, so that they share one model call
    chunk_bins: int = 64                     # most bins materialised from one batch at once
    cuda_graphs: bool = True                 # on CUDA, replay each step as a captured graph
    conv_dtype: str = "float32"              # "float32" | "bfloat16": the block convolutions'
    #                                          arithmetic (bfloat16: faster where native, not
    #                                          the same spikes; docs/benchmarks.md)
    keep_freed_memory: bool = False          # on CPU, glibc keeps freed blocks for the next
    #                                          step: process-wide, so the commands that own
    #                                          their process turn it on (host_memory)
    allow_remap: bool = False                # run a model on a sensor it was not trained on

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
        if self.live_max_jump_s is not None and not self.live_max_jump_s > 0:
            raise ValueError(f"live_max_jump_s must be > 0 or None, got {self.live_max_jump_s}")
        if self.stall_timeout_s is not None and not self.stall_timeout_s > 0:
            raise ValueError(f"stall_timeout_s must be > 0 or None, got {self.stall_timeout_s}")
        if not 0 <= self.batch_gather_ms <= MAX_GATHER_MS:
            raise ValueError(f"batch_gather_ms must be between 0 and {MAX_GATHER_MS:g} ms, "
                             f"got {self.batch_gather_ms}")
        if self.conv_dtype not in CONV_DTYPES:
            raise ValueError(f"conv_dtype must be one of {CONV_DTYPES}, got {self.conv_dtype!r}")
        if self.max_reconnects < 0:
            raise ValueError(f"max_reconnects must be >= 0, got {self.max_reconnects}")
        if self.reconnect_attempts < 0:
            raise ValueError(f"reconnect_attempts must be >= 0, got {self.reconnect_attempts}")
        self.predictor_config(PredictorConfig())  # validates the settings asked for now

    def predictor_config(self, own: PredictorConfig) -> PredictorConfig:
        """The predictor's settings: the model's ``own`` (``PredictorConfig.from_readout``)
        with those asked for in their place."""
        asked = {name: value for name in PREDICTOR_SETTINGS
                 if (value := getattr(self, name)) is not None}
        return dataclasses.replace(own, **asked)

    def uncertain_note(self, own: PredictorConfig, fitted_under: Mapping[str, Any]) -> str:
        """One line when the model's own threshold is applied under another smoothing than
        the one it was fitted under (``Checkpoint.uncertain_fitted_under``), '' otherwise:
        smoothing shifts the confidences, so the threshold no longer parts rests from
        gestures as measured (EMA τ=10 instead of 5 marked 77 % of the stage 8 model's
        validation rests uncertain instead of 90 %)."""
        if self.uncertain_below is not None or own.uncertain_below <= 0 or not fitted_under:
            return ""
        try:
            fitted = PredictorConfig(**fitted_under)
        except (TypeError, ValueError):
            return ""  # a record this version cannot read: nothing to compare with
        running = self.predictor_config(own)
        if running.smooths_like(fitted):
            return ""
        return (f"the model's uncertain threshold {own.uncertain_below:g} was fitted under "
                f"{fitted.smoothing_words()}; it is still applied under this run's smoothing "
                f"({running.smoothing_words()}), where it may mark more or fewer rests uncertain "
                "than measured. Pass --uncertain-below P for your own (0: off)")


@dataclass(frozen=True)
class EngineEvent:
    """Something the user should know about, besides predictions: ``kind`` is one of
    started, paused, resumed, seeked, reset, finished, stream_dropped, reconnecting,
    reconnected, failed, stopped, source_changed, model_changed, clock_jump."""

    kind: str
    message: str
    bin: int | None = None
