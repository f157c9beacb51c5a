"""Turn per-step class scores into a label the user can trust: smoothing over steps (EMA with
a time constant, or the mean of the last N steps), confidence, an "uncertain" state below a
threshold, and the onset of a new label once it has held for M consecutive steps.

Pure NumPy; one ``update`` per model step, O(K) work (K = number of classes)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

SMOOTHING_MODES = ("ema", "mean")


@dataclass(frozen=True)
class PredictorConfig:
    smoothing: str = "ema"             # "ema" | "mean"
    ema_tau_steps: float = 5.0         # EMA time constant, in steps (1 = no smoothing)
    mean_window: int = 10              # steps averaged by "mean"
    onset_steps: int = 3               # M: steps a new label must hold before its onset
    uncertain_below: float = 0.0       # confidence under this = uncertain (0 = never)
    logit_scale: float = 1.0           # probs = softmax(logit_scale * scores)

    def __post_init__(self) -> None:
        if self.smoothing not in SMOOTHING_MODES:
            raise ValueError(f"smoothing must be one of {SMOOTHING_MODES}, got {self.smoothing!r}")
        if not self.ema_tau_steps >= 1.0:
            raise ValueError(f"ema_tau_steps must be >= 1 step, got {self.ema_tau_steps}")
        if self.mean_window < 1:
            raise ValueError(f"mean_window must be >= 1 step, got {self.mean_window}")
        if self.onset_steps < 1:
            raise ValueError(f"onset_steps must be >= 1, got {self.onset_steps}")
        if not 0.0 <= self.uncertain_below <= 1.0:
            raise ValueError(f"uncertain_below must be in [0, 1], got {self.uncertain_below}")
        if not (math.isfinite(self.logit_scale) and self.logit_scale > 0):
            raise ValueError(f"logit_scale must be a positive finite number, got {self.logit_scale}")

    @classmethod
    def from_readout(cls, readout: Mapping[str, Any]) -> PredictorConfig:
        """The settings a checkpoint's readout was calibrated and validated with: its
        ``predictor`` (smoothing, onset), ``uncertain_below`` and ``logit_scale``; the
        defaults where it says nothing."""
        own = readout.get("predictor") or {}
        kinds = {"smoothing": str, "ema_tau_steps": float, "mean_window": int, "onset_steps": int}
        settings = {name: kind(own[name]) for name, kind in kinds.items() if name in own}
        return cls(**settings, uncertain_below=float(readout.get("uncertain_below", 0.0)),
                   logit_scale=float(readout.get("logit_scale", 10.0)))

    def smoothing_words(self) -> str:
        """The smoothing in a few words, e.g. "EMA τ=5 steps"."""
        if self.smoothing == "ema":
            return f"EMA τ={self.ema_tau_steps:g} steps"
        return f"mean of {self.mean_window} steps"

    def smooths_like(self, other: PredictorConfig) -> bool:
        """Same smoothing (mode and its one parameter): the same scores give the same
        confidences."""
        if self.smoothing != other.smoothing:
            return False
        if self.smoothing == "ema":
            return self.ema_tau_steps == other.ema_tau_steps
        return self.mean_window == other.mean_window

    @property
    def ema_alpha(self) -> float:
        """Weight of the newest step: a step-response reaches 1 - 1/e after tau steps."""
        return 1.0 - math.exp(-1.0 / self.ema_tau_steps)


@dataclass(frozen=True)
class PredictorOutput:
    probs: np.ndarray       # float32 [K] softmax of this step's scores
    smoothed: np.ndarray    # float32 [K] softmax of the smoothed scores
    label: int
    confidence: float
    uncertain: bool
    onset: bool


@dataclass(frozen=True)
class PredictorState:
    """Everything ``update`` depends on, so a seek can restore it exactly."""

    ema: np.ndarray | None
    window: np.ndarray | None
    window_filled: int
    window_pos: int
    run_label: int
    run_length: int
    held_label: int


def softmax(scores: np.ndarray, scale: float = 1.0) -> np.ndarray:
    z = np.asarray(scores, dtype=np.float64) * scale
    z = z - z.max()
    e = np.exp(z)
    return (e / e.sum()).astype(np.float32)


class Predictor:
    """Stateful: feed it one score vector per step, in step order."""

    def __init__(self, config: PredictorConfig, num_classes: int):
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.config = config
        self.num_classes = num_classes
        self.reset()

    def reset(self) -> None:
        self._ema: np.ndarray | None = None
        self._window = (
            np.zeros((self.config.mean_window, self.num_classes), dtype=np.float64)
            if self.config.smoothing == "mean" else None
        )
        self._window_filled = 0
        self._window_pos = 0
        self._run_label = -1     # label of the current streak of confident steps
        self._run_length = 0
        self._held_label = -1    # label whose onset was last reported

    @property
    def held_label(self) -> int:
        """The label of the last onset (-1 before any)."""
        return self._held_label

    def update(self, scores: np.ndarray) -> PredictorOutput:
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if scores.shape[0] != self.num_classes:
            raise ValueError(f"expected {self.num_classes} class scores, got {scores.shape[0]}")
        if not np.all(np.isfinite(scores)):
            raise ValueError(f"class scores must be finite, got {scores.tolist()}")
        smoothed_scores = self._smooth(scores)
        scale = self.config.logit_scale
        probs = softmax(scores, scale)
        smoothed = softmax(smoothed_scores, scale)
        label = int(np.argmax(smoothed))
        confidence = float(smoothed[label])
        uncertain = confidence < self.config.uncertain_below
        onset = self._track_onset(label, uncertain)
        return PredictorOutput(probs, smoothed, label, confidence, uncertain, onset)

    def _smooth(self, scores: np.ndarray) -> np.ndarray:
        if self.config.smoothing == "ema":
            if self._ema is None:
                self._ema = scores.copy()
            else:
                self._ema += self.config.ema_alpha * (scores - self._ema)
            return self._ema
        window = self._window
        window[self._window_pos] = scores
        self._window_pos = (self._window_pos + 1) % window.shape[0]
        self._window_filled = min(self._window_filled + 1, window.shape[0])
        # Unfilled rows are zeros, so dividing the full sum by the filled count is the mean.
        return window.sum(axis=0) / self._window_filled

    def _track_onset(self, label: int, uncertain: bool) -> bool:
        # An uncertain step breaks a streak: an onset needs M confident steps in a row.
        if uncertain:
            self._run_label, self._run_length = -1, 0
            return False
        if label == self._run_label:
            self._run_length += 1
        else:
            self._run_label, self._run_length = label, 1
        if self._run_length >= self.config.onset_steps and label != self._held_label:
            self._held_label = label
            return True
        return False

    def snapshot(self) -> PredictorState:
        return PredictorState(
            ema=None if self._ema is None else self._ema.copy(),
            window=None if self._window is None else self._window.copy(),
            window_filled=self._window_filled,
            window_pos=self._window_pos,
            run_label=self._run_label,
            run_length=self._run_length,
            held_label=self._held_label,
        )

    def restore(self, state: PredictorState) -> None:
        self._ema = None if state.ema is None else state.ema.copy()
        self._window = None if state.window is None else state.window.copy()
        self._window_filled = state.window_filled
        self._window_pos = state.window_pos
        self._run_label = state.run_label
        self._run_length = state.run_length
        self._held_label = state.held_label
