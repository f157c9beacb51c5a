"""The records the engine hands to its consumers: one :class:`Prediction` per bin, live
:class:`EngineStats` (with a :class:`LatencySummary` per stage) and the :class:`SessionInfo`
of the running session. Plain records (NumPy arrays, floats, dicts), no torch tensors and no
Qt, so the GUI, the CLI, the sinks and tests can all hold them without touching the model's
device."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from live_snn.binning import BinningConfig, SpatialMapping, bins_in
from live_snn.engine.predictor import PredictorConfig
from live_snn.events import Resolution

# Stages timed per bin, in the order data flows through them (wall clock, ms).
#   event_to_bin:      the bin's newest event arrived -> the binner closed the bin (live: when
#                      the batch arrived; replay: when that bin's events entered the binner);
#                      NaN for an empty bin
#   queue:             bin closed (paced replay: due) -> model step starts
#   step:              the model step itself, incl. device sync and the copy to the host
#   bin_to_prediction: bin closed -> Prediction ready (queue + step + predictor)
LATENCY_STAGES: tuple[str, ...] = ("event_to_bin", "queue", "step", "bin_to_prediction")



@dataclass
class Prediction:
    """The model's reading of one bin ``[t_start_us, t_end_us)``; batch row 0, NumPy only."""

    bin: int                                   # bin index k, anchored at the source start
    t_start_us: int
    t_end_us: int
    events: int                                # events that landed in this bin (after crop)
    scores: np.ndarray                         # float32 [K] voting-layer output of this step
    probs: np.ndarray                          # float32 [K] softmax(logit_scale * scores), raw
    smoothed: np.ndarray                       # float32 [K] after EMA / mean-of-N, sums to 1
    label: int                                 # argmax of smoothed
    label_name: str
    confidence: float                          # smoothed[label]
    uncertain: bool                            # confidence < uncertain_below
    onset: bool                                # a new label has just held for M steps
    attention: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    #   layer name -> {"gate", "branch_a", "branch_b"} -> float32 [C]; empty without taps
    spike_rates: dict[str, float] = field(default_factory=dict)  # spiking layer -> fraction fired
    frame: np.ndarray | None = None            # float32 [2, H, W] model-resolution counts
    sensor_frame: np.ndarray | None = None     # uint16 [2, Hs, Ws] when keep_sensor_frames
    ground_truth: int = -1                     # label at the bin centre from source.labels, or -1
    latency_ms: dict[str, float] = field(default_factory=dict)  # LATENCY_STAGES -> ms
    skipped_before: int = 0                    # live backpressure: bins dropped just before this

    @property
    def t_center_us(self) -> int:
        return (self.t_start_us + self.t_end_us) // 2


@dataclass(frozen=True)
class LatencySummary:
    """Percentiles of one stage over the recent samples (ms); NaN when there are none."""

    p50: float
    p95: float
    p99: float
    mean: float
    max: float
    count: int                                 # samples seen in total (not only the recent ones)

    @classmethod
    def empty(cls) -> LatencySummary:
        nan = float("nan")
        return cls(nan, nan, nan, nan, nan, 0)

    def as_dict(self) -> dict[str, float]:
        return {
            "p50": self.p50, "p95": self.p95, "p99": self.p99,
            "mean": self.mean, "max": self.max, "count": self.count,
        }


@dataclass(frozen=True)
class EngineStats:
    """A consistent snapshot of the engine's counters and clocks (see Engine.stats())."""

    state: str                                 # "idle" | "running" | "paused" | "finished" | "failed"
    events_in: int                             # events delivered by the source
    events_dropped: dict[str, int]             # reason -> count (out_of_range, outside_crop, ...)
    bins: int                                  # bins turned into predictions
    bins_skipped: int                          # bins dropped by the backpressure policy
    steps_per_s: float                         # model steps per wall second (recent window)
    realtime_factor: float                     # data time covered / wall time spent (> 1 = faster)
    lag_ms: float                              # live sources: how far behind the newest event
    pending_bins: int                          # bins closed but not yet stepped
    latency: dict[str, LatencySummary]         # LATENCY_STAGES -> summary
    data_time_us: int                          # source time of the last predicted bin's end
    wall_s: float                              # wall time since start (excluding pauses)
    reconnects: int = 0                        # network reconnections so far
    resets: int = 0                            # model state resets (manual, silence, source change)
    error: str | None = None                   # why the run ended early, if it did

    @property
    def events_dropped_total(self) -> int:
        return int(sum(self.events_dropped.values()))

    def as_dict(self) -> dict:
        """The end-of-run summary as plain JSON-ready values (``--summary-json``)."""
        return {
            "state": self.state,
            "events_in": self.events_in,
            "events_dropped": self.events_dropped_total,
            "events_dropped_by_reason": dict(self.events_dropped),
            "bins": self.bins,
            "bins_skipped": self.bins_skipped,
            "steps_per_s": self.steps_per_s,
            "realtime_factor": self.realtime_factor,
            "lag_ms": self.lag_ms,
            "data_time_us": self.data_time_us,
            "wall_s": self.wall_s,
            "reconnects": self.reconnects,
            "resets": self.resets,
            "error": self.error,
            "latency_ms": {stage: s.as_dict() for stage, s in self.latency.items()},
        }


@dataclass(frozen=True)
class SessionInfo:
    """What a consumer (GUI, JSONL header, export) needs to know about the running session."""

    source_description: str
    is_live: bool
    seekable: bool
    binning: BinningConfig                     # the runtime binning: checkpoint dt and model
    #                                            resolution, the source's sensor, the mapping
    start_us: int | None                       # first / last event time when seekable
    end_us: int | None
    class_names: tuple[str, ...]
    attention_channels: dict[str, int]         # attention layer -> channel count C
    spiking_layers: tuple[str, ...]
    window_steps: int                          # T of the model (window mode re-runs T frames)
    streams_by_step: bool
    device: str                                # "cpu" / "cuda:0"
    has_labels: bool                           # the source carries a ground-truth label track
    model_sha256: str
    model_path: str | None = None
    conv_dtype: str = "float32"                # the convolutions' arithmetic (EngineConfig)
    predictor: PredictorConfig = PredictorConfig()  # smoothing, onset, uncertain threshold
    uncertain_note: str = ""                   # why that threshold may not fit this smoothing

    @property
    def uncertain_below(self) -> float:
        """Confidence under this is shown as uncertain (0: never)."""
        return self.predictor.uncertain_below

    @property
    def sensor(self) -> Resolution:
        """The source's sensor."""
        return self.binning.sensor

    @property
    def model_resolution(self) -> Resolution:
        """The model's input, from the checkpoint."""
        return self.binning.model

    @property
    def mapping(self) -> SpatialMapping:
        """Crop box in sensor pixels and downscale factor."""
        return self.binning.mapping()

    @property
    def dt_us(self) -> int:
        return self.binning.dt_us

    @property
    def attention_layers(self) -> list[str]:
        return list(self.attention_channels)

    @property
    def num_bins(self) -> int | None:
        """Bins a full replay yields (ceil(duration / dt)), None for live sources."""
        if self.start_us is None or self.end_us is None:
            return None
        return bins_in(self.end_us - self.start_us + 1, self.dt_us)
