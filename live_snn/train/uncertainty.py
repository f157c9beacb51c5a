"""The "uncertain" threshold: below which confidence the live display says it is not sure.

The model's classes are the gestures; there is no "nobody is gesturing" class, so between
gestures the arg-max is still some gesture. What tells a rest apart is the confidence: a
calibrated model spreads its probability when nothing it knows is happening. One threshold
on the smoothed confidence then marks rests (and real doubt) as uncertain.

The rule (fixed before it was first applied, 2026-12-05): on held-out validation sessions,
the threshold on a 0.01 grid that maximises the mean of two rates, rest steps marked
uncertain and gesture steps (after the grace period) left confident; Youden's J on the
confidence. Ties go to the lower threshold, the one that hides fewer answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from live_snn.engine.predictor import PredictorConfig
from live_snn.train.evaluate import predictor_outputs
from live_snn.train.metrics import latency_stats, score_segments
from live_snn.train.sessions import LabelledSession

THRESHOLD_GRID = np.round(np.arange(0.0, 1.0, 0.01), 2)


def shown_confidence(scores: np.ndarray, config: PredictorConfig) -> tuple[np.ndarray, np.ndarray]:
    """The live predictor's label and confidence at every step (``[N, K]`` scores)."""
    labels, smoothed = predictor_outputs(scores, config)
    return labels, smoothed[np.arange(len(labels)), labels]


@dataclass(frozen=True)
class StepConfidence:
    """Confidence of every rest step and of every scored gesture step."""

    rest: np.ndarray
    gesture: np.ndarray

    @classmethod
    def of(cls, sessions: Sequence[LabelledSession], session_scores: Sequence[np.ndarray],
           config: PredictorConfig, grace_bins: int) -> StepConfidence:
        return cls.split(sessions, [shown_confidence(np.asarray(scores), config)[1]
                                    for scores in session_scores], grace_bins)

    @classmethod
    def split(cls, sessions: Sequence[LabelledSession], confidences: Sequence[np.ndarray],
              grace_bins: int) -> StepConfidence:
        """Each session's per-step ``confidences`` parted into rests and scored gestures."""
        rest, gesture = [], []
        for session, confidence in zip(sessions, confidences, strict=True):
            truth = session.labels.numpy()
            rest.append(confidence[truth < 0])
            gesture.append(confidence[(truth >= 0) & (session.since_onset.numpy() >= grace_bins)])
        return cls(np.concatenate(rest), np.concatenate(gesture))

    def rates(self, threshold: float) -> tuple[float | None, float | None]:
        """Fractions of rest steps and of gesture steps shown as uncertain (None: no such
        steps)."""
        return (float(np.mean(self.rest < threshold)) if self.rest.size else None,
                float(np.mean(self.gesture < threshold)) if self.gesture.size else None)


def threshold_for(steps: StepConfidence) -> float:
    """The module's rule where it can be applied; 0 (never uncertain) for data without rests
    or without scored gesture steps, which say nothing about telling them apart."""
    return fit_uncertain_below(steps) if steps.rest.size and steps.gesture.size else 0.0


def fit_uncertain_below(steps: StepConfidence, grid: np.ndarray = THRESHOLD_GRID) -> float:
    """The module's rule: maximise (rests uncertain + gestures confident) / 2 over ``grid``."""
    if steps.rest.size == 0 or steps.gesture.size == 0:
        raise ValueError("fitting the uncertain threshold needs both rest and gesture steps")
    grid = np.asarray(grid, dtype=np.float64)
    rest_flagged = (steps.rest[None, :] < grid[:, None]).mean(axis=1)
    gesture_kept = (steps.gesture[None, :] >= grid[:, None]).mean(axis=1)
    return float(grid[int(np.argmax(rest_flagged + gesture_kept))])  # first maximum: lowest


def uncertainty_report(all_scores: Sequence[np.ndarray], sessions: Sequence[LabelledSession],
                       num_classes: int, config: PredictorConfig, *, grace_bins: int,
                       stable_steps: int) -> dict:
    """What the threshold does to what a user sees: rest and gesture steps shown as
    uncertain, and the accuracy and onset when an uncertain step counts as no answer (the
    label then is ``num_classes``, a class no segment has)."""
    scored, latencies, confidences = [], [], []
    for scores, session in zip(all_scores, sessions, strict=True):
        labels, confidence = shown_confidence(np.asarray(scores), config)
        confidences.append(confidence)
        shown = np.where(confidence < config.uncertain_below, num_classes, labels)
        segments = score_segments(shown, session.segments, num_classes + 1, grace=grace_bins,
                                  stable_steps=stable_steps)
        scored.extend(segments)
        latencies.extend(None if s.latency_bins is None else s.latency_bins * session.dt_us / 1000
                         for s in segments)
    steps = StepConfidence.split(sessions, confidences, grace_bins)
    rest_uncertain, gesture_uncertain = steps.rates(config.uncertain_below)
    return {
        "uncertain_below": config.uncertain_below,
        "rest_steps": int(steps.rest.size),
        "rest_uncertain": rest_uncertain,
        "gesture_steps": int(steps.gesture.size),
        "gesture_uncertain": gesture_uncertain,
        "shown_accuracy": (sum(s.voted == s.label for s in scored) / len(scored)) if scored else None,
        "shown_onset_latency_ms": latency_stats(latencies).as_dict(),
    }
