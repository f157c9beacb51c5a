"""Calibrating the readout: the one number that turns class scores into probabilities.

The live predictor reports ``softmax(logit_scale · smoothed_scores)``. Voting scores are spike
rates in [0, 1], so the scale decides whether "confidence" means anything: too small and every
prediction looks like a guess, too large and every guess looks certain. Temperature scaling
(Guo et al., 2017) fits that single scale by minimising the negative log-likelihood of the
true labels on held-out data; it changes no decision, only the confidence attached to it, so
accuracy is untouched while the GUI's confidence and "uncertain" state become meaningful.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from live_snn.errors import LiveSnnError
from live_snn.train.sessions import LabelledSession

SCALE_GRID = np.geomspace(0.5, 500.0, 160)


def ema_scores(scores: np.ndarray, alpha: float) -> np.ndarray:
    """The predictor's EMA over steps (``[N, K]`` -> ``[N, K]``, weight ``alpha`` on the newest
    step, the first step as its start). A loop over steps (a few thousand), not events."""
    out = np.empty_like(scores, dtype=np.float64)
    if len(scores) == 0:
        return out
    out[0] = scores[0]
    for i in range(1, len(scores)):
        out[i] = out[i - 1] + alpha * (scores[i] - out[i - 1])
    return out


def negative_log_likelihood(scores: np.ndarray, labels: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Mean NLL of ``labels`` under ``softmax(s · scores)`` for every ``s`` in ``scales``."""
    logits = scales[:, None, None] * scores[None]                       # [S, N, K]
    peak = logits.max(axis=2, keepdims=True)
    log_norm = np.log(np.exp(logits - peak).sum(axis=2)) + peak[..., 0]  # [S, N]
    picked = logits[:, np.arange(len(labels)), labels]                  # [S, N]
    return (log_norm - picked).mean(axis=1)


def fit_logit_scale(scores: np.ndarray, labels: np.ndarray, scales: np.ndarray = SCALE_GRID) -> float:
    """The scale in ``scales`` with the lowest NLL (a 1-D convex problem: a grid is enough)."""
    if len(labels) == 0:
        raise ValueError("no labelled steps to calibrate on")
    nll = negative_log_likelihood(np.asarray(scores, np.float64), np.asarray(labels), scales)
    return float(scales[int(np.argmin(nll))])


def labelled_steps(
    sessions: Sequence[LabelledSession], session_scores: Sequence[np.ndarray], *,
    alpha: float, grace_bins: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed scores and labels of every step inside a labelled segment after its grace
    period: the steps the streaming accuracy is scored on."""
    kept_scores, kept_labels = [], []
    for session, scores in zip(sessions, session_scores, strict=True):
        smoothed = ema_scores(np.asarray(scores), alpha)
        labels = session.labels.numpy()
        keep = (labels >= 0) & (session.since_onset.numpy() >= grace_bins)
        kept_scores.append(smoothed[keep])
        kept_labels.append(labels[keep])
    return np.concatenate(kept_scores), np.concatenate(kept_labels)


def calibrated_readout(readout: dict, sessions: Sequence[LabelledSession],
                       session_scores: Sequence[np.ndarray], streaming, data) -> dict:
    """``readout`` with its confidence scale fitted (temperature scaling) and then its
    "uncertain" threshold (:mod:`live_snn.train.uncertainty`) on held-out ``sessions``, whose
    per-step scores are ``session_scores``; ``streaming`` is the evaluation's
    :class:`~live_snn.train.evaluate.StreamingConfig`, ``data`` says what the sessions are.
    Both fits are recorded beside the values."""
    import dataclasses

    from live_snn.train.uncertainty import StepConfidence, threshold_for

    predictor = streaming.predictor
    if predictor.smoothing != "ema":  # the scale is fitted on EMA-smoothed scores
        raise LiveSnnError(f"calibration fits under EMA smoothing only; this model's readout "
                         f"smooths by {predictor.smoothing_words()}")
    steps, labels = labelled_steps(sessions, session_scores, alpha=predictor.ema_alpha,
                                   grace_bins=streaming.grace_bins)
    previous = float(readout.get("logit_scale", predictor.logit_scale))
    # The current scale is a candidate too, so calibrating never makes the NLL worse.
    scale = fit_logit_scale(steps, labels, np.union1d(SCALE_GRID, [previous]))
    before, after = negative_log_likelihood(steps, labels, np.array([previous, scale]))
    confidence = StepConfidence.of(sessions, session_scores,
                                   dataclasses.replace(predictor, logit_scale=scale),
                                   streaming.grace_bins)
    threshold = threshold_for(confidence)
    rest_uncertain, gesture_uncertain = confidence.rates(threshold)
    # The model's own smoothing from now on: the scale and the threshold hold under it.
    smoothing = {"smoothing": predictor.smoothing, "ema_tau_steps": predictor.ema_tau_steps}
    return {**readout, "logit_scale": scale, "uncertain_below": threshold,
            "predictor": {**(readout.get("predictor") or {}), **smoothing},
            "calibration": {"method": "temperature scaling, NLL of smoothed probabilities",
                            "data": data, "steps": int(len(labels)),
                            "previous_logit_scale": previous,
                            "nll_before": float(before), "nll_after": float(after)},
            "uncertain_calibration": {
                "rule": "max over a 0.01 grid of (rest steps uncertain + gesture steps "
                        "after grace confident) / 2, lowest on ties",
                "data": data, "rest_steps": int(confidence.rest.size),
                # fitted under these: another smoothing shifts the confidences
                "smoothing": predictor.smoothing, "ema_tau_steps": predictor.ema_tau_steps,
                "mean_window": predictor.mean_window, "grace_bins": streaming.grace_bins,
                "gesture_steps": int(confidence.gesture.size),
                "rest_uncertain": rest_uncertain, "gesture_uncertain": gesture_uncertain}}


def calibration_lines(readout: dict) -> list[str]:
    """What :func:`calibrated_readout` did, in words."""
    fit, uncertain = readout["calibration"], readout["uncertain_calibration"]
    lines = [f"logit_scale {fit['previous_logit_scale']:g} -> {readout['logit_scale']:.3g} on "
             f"{fit['steps']} labelled steps (NLL {fit['nll_before']:.3f} -> {fit['nll_after']:.3f})"]
    if readout["uncertain_below"] > 0:
        lines.append(f"uncertain below {readout['uncertain_below']:g}: "
                     f"{uncertain['rest_uncertain']:.1%} of {uncertain['rest_steps']} rest steps, "
                     f"{uncertain['gesture_uncertain']:.1%} of {uncertain['gesture_steps']} "
                     "gesture steps")
    else:
        lines.append("no rests (unlabelled steps) to tell from gestures: uncertain threshold 0 "
                     "(never)")
    return lines
