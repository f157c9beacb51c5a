from __future__ import annotations

import math

import numpy as np
import pytest

from live_snn.engine.predictor import Predictor, PredictorConfig, softmax


def one_hot(k: int, n: int = 4, high: float = 1.0) -> np.ndarray:
    s = np.zeros(n, dtype=np.float32)
    s[k] = high
    return s


def test_probs_are_softmax_of_scaled_scores():
    p = Predictor(PredictorConfig(smoothing="ema", ema_tau_steps=1.0, logit_scale=3.0), 3)
    scores = np.array([0.2, 0.5, 0.1], dtype=np.float32)
    out = p.update(scores)
    expected = np.exp(3.0 * scores) / np.exp(3.0 * scores).sum()
    np.testing.assert_allclose(out.probs, expected, rtol=1e-6)
    # tau = 1 step still smooths a little (alpha = 1 - 1/e) but the first step is the input itself
    np.testing.assert_allclose(out.smoothed, expected, rtol=1e-6)
    assert out.label == 1 and math.isclose(out.confidence, float(expected[1]), rel_tol=1e-6)


def test_ema_follows_time_constant():
    tau = 4.0
    p = Predictor(PredictorConfig(smoothing="ema", ema_tau_steps=tau, logit_scale=1.0), 2)
    p.update(np.array([0.0, 0.0]))
    # a unit step on class 0: after tau steps the smoothed score reaches 1 - 1/e
    for _ in range(int(tau)):
        out = p.update(np.array([1.0, 0.0]))
    smoothed_score = math.log(out.smoothed[0] / out.smoothed[1])  # softmax inverse, 2 classes
    assert smoothed_score == pytest.approx(1.0 - math.exp(-1.0), rel=1e-5)


def test_mean_window_averages_last_n_scores():
    p = Predictor(PredictorConfig(smoothing="mean", mean_window=3, logit_scale=1.0), 2)
    history = [np.array([v, 0.0]) for v in (9.0, 1.0, 2.0, 3.0)]
    outs = [p.update(s) for s in history]
    # after 4 steps only the last 3 count: mean = 2
    np.testing.assert_allclose(outs[-1].smoothed, softmax(np.array([2.0, 0.0])), rtol=1e-6)
    # partial window: mean of what has been seen
    np.testing.assert_allclose(outs[1].smoothed, softmax(np.array([5.0, 0.0])), rtol=1e-6)


def test_onset_after_m_consecutive_steps_and_only_once():
    p = Predictor(PredictorConfig(smoothing="ema", ema_tau_steps=1.0, onset_steps=3), 4)
    onsets = [p.update(one_hot(2, high=5.0)).onset for _ in range(6)]
    assert onsets == [False, False, True, False, False, False]
    assert p.held_label == 2


def test_onset_of_new_label_and_interrupted_streak():
    p = Predictor(PredictorConfig(smoothing="ema", ema_tau_steps=1.0, onset_steps=2), 4)
    # tau=1 keeps a little memory; big scores make each step's argmax the input's
    seq = [1, 1, 3, 1, 3, 3, 3]
    onsets = [p.update(one_hot(k, high=50.0)).onset for k in seq]
    assert onsets == [False, True, False, False, False, True, False]


def test_uncertain_below_threshold():
    p = Predictor(PredictorConfig(smoothing="ema", ema_tau_steps=1.0, onset_steps=2,
                                  uncertain_below=0.6), 4)
    flat = p.update(np.zeros(4))
    assert flat.uncertain and flat.confidence == pytest.approx(0.25)
    assert not p.update(one_hot(0, high=50.0)).uncertain
    p.reset()
    out = [p.update(one_hot(0, high=50.0)) for _ in range(2)]
    assert [o.onset for o in out] == [False, True]


def test_uncertain_step_resets_the_streak():
    cfg = PredictorConfig(smoothing="mean", mean_window=1, onset_steps=2, uncertain_below=0.9)
    p = Predictor(cfg, 3)
    confident, vague = one_hot(1, 3, 50.0), np.zeros(3)
    flags = [(o.uncertain, o.onset) for o in (p.update(s) for s in (confident, vague, confident, confident))]
    assert flags == [(False, False), (True, False), (False, False), (False, True)]


def test_snapshot_restore_reproduces_outputs():
    rng = np.random.default_rng(0)
    seq = rng.normal(size=(30, 5)).astype(np.float32)
    for cfg in (PredictorConfig(smoothing="ema", ema_tau_steps=3.0, onset_steps=2),
                PredictorConfig(smoothing="mean", mean_window=4, onset_steps=2)):
        p = Predictor(cfg, 5)
        for s in seq[:10]:
            p.update(s)
        snap = p.snapshot()
        first = [p.update(s) for s in seq[10:]]
        p.restore(snap)
        second = [p.update(s) for s in seq[10:]]
        for a, b in zip(first, second, strict=True):
            np.testing.assert_array_equal(a.smoothed, b.smoothed)
            assert (a.label, a.onset) == (b.label, b.onset)


def test_bad_input_is_rejected_clearly():
    p = Predictor(PredictorConfig(), 3)
    with pytest.raises(ValueError, match="expected 3 class scores, got 2"):
        p.update(np.zeros(2))
    with pytest.raises(ValueError, match="finite"):
        p.update(np.array([0.0, np.nan, 0.0]))
    with pytest.raises(ValueError, match="smoothing"):
        PredictorConfig(smoothing="median")
    with pytest.raises(ValueError, match="mean_window"):
        PredictorConfig(mean_window=0)
    with pytest.raises(ValueError, match="uncertain_below"):
        PredictorConfig(uncertain_below=1.5)
