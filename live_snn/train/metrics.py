"""Scores of a classifier on clips and on streams: confusion matrices, per-segment streaming
accuracy and the time from a gesture's onset to a correct, stable prediction. NumPy only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from live_snn.train.sessions import Segment


def confusion_matrix(true: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """int64 [K, K]; row = true class, column = predicted class."""
    true = np.asarray(true, dtype=np.int64).reshape(-1)
    pred = np.asarray(pred, dtype=np.int64).reshape(-1)
    if true.shape != pred.shape:
        raise ValueError(f"{true.size} true labels but {pred.size} predictions")
    for name, arr in (("true", true), ("predicted", pred)):
        bad = np.flatnonzero((arr < 0) | (arr >= num_classes))
        if bad.size:
            raise ValueError(f"{name} label {int(arr[bad[0]])} at index {int(bad[0])} is "
                             f"outside 0..{num_classes - 1}")
    flat = np.bincount(true * num_classes + pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def accuracy(confusion: np.ndarray) -> float:
    total = int(confusion.sum())
    return float(np.trace(confusion)) / total if total else float("nan")


def per_class_recall(confusion: np.ndarray) -> np.ndarray:
    """Fraction of each true class predicted right (NaN for a class never seen)."""
    rows = confusion.sum(axis=1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diag(confusion) / rows


@dataclass(frozen=True)
class SegmentScore:
    label: int
    voted: int                  # majority of the per-step labels after the grace period
    steps_scored: int
    steps_correct: int
    latency_bins: int | None    # bins from segment start to the end of the first stable run


def score_segments(
    predicted: np.ndarray,
    segments: Sequence[Segment],
    num_classes: int,
    *,
    grace: int,
    stable_steps: int,
) -> list[SegmentScore]:
    """Score one stream's per-step labels against its labelled segments.

    The segment's answer is the label predicted most often from ``start + grace`` to its end
    (a segment shorter than the grace period is scored on its last step). Its latency is the
    number of bins from its start until ``stable_steps`` consecutive correct steps have been
    seen inside it: the time a user waits for the right, settled answer."""
    predicted = np.asarray(predicted, dtype=np.int64)
    scores = []
    for seg in segments:  # a stream has few segments; each one is vectorised
        if seg.end > predicted.size:
            raise ValueError(f"segment [{seg.start}, {seg.end}) runs past the stream's "
                             f"{predicted.size} steps")
        first = min(seg.start + grace, seg.end - 1)
        window = predicted[first:seg.end]
        voted = int(np.argmax(np.bincount(window, minlength=num_classes)))
        correct = predicted[seg.start:seg.end] == seg.label
        runs = np.convolve(correct.astype(np.int64), np.ones(stable_steps, dtype=np.int64),
                           mode="valid")
        hits = np.flatnonzero(runs == stable_steps)
        latency = int(hits[0] + stable_steps) if hits.size else None
        scores.append(SegmentScore(seg.label, voted, int(window.size),
                                   int((window == seg.label).sum()), latency))
    return scores


@dataclass(frozen=True)
class LatencyStats:
    median: float | None
    p90: float | None
    detected: int      # segments that reached a stable correct prediction
    total: int

    def as_dict(self) -> dict:
        return {"median": self.median, "p90": self.p90, "detected": self.detected,
                "total": self.total}


def latency_stats(latencies_ms: Sequence[float | None]) -> LatencyStats:
    """Median and 90th percentile over the segments that were recognised at all; how many
    never were is reported next to them rather than folded into the percentiles."""
    found = np.array([v for v in latencies_ms if v is not None], dtype=np.float64)
    if found.size == 0:
        return LatencyStats(None, None, 0, len(latencies_ms))
    return LatencyStats(float(np.median(found)), float(np.percentile(found, 90)),
                        int(found.size), len(latencies_ms))
