import numpy as np
import pytest

from live_snn.train.calibrate import ema_scores, fit_logit_scale, negative_log_likelihood


def test_fitted_scale_recovers_the_temperature_that_generated_the_labels():
    rng = np.random.default_rng(0)
    scores = rng.random((4000, 11))
    true_scale = 12.0
    logits = true_scale * scores
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    labels = np.array([rng.choice(11, p=p) for p in probs])
    fitted = fit_logit_scale(scores, labels)
    assert 9.0 < fitted < 16.0


def test_nll_is_lowest_at_the_fitted_scale_and_higher_either_side():
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.2, 0.6], [0.5, 0.4, 0.1]])
    labels = np.array([0, 1, 2, 1])
    scale = fit_logit_scale(scores, labels)
    nll = negative_log_likelihood(scores, labels, np.array([scale / 3, scale, scale * 3]))
    assert nll[1] < nll[0] and nll[1] < nll[2]


def test_ema_matches_the_predictor_recurrence():
    from live_snn.engine.predictor import Predictor, PredictorConfig

    rng = np.random.default_rng(1)
    scores = rng.random((30, 4))
    config = PredictorConfig(smoothing="ema", ema_tau_steps=4.0, logit_scale=1.0)
    predictor = Predictor(config, 4)
    expected = []
    for row in scores:
        out = predictor.update(row)
        expected.append(out.smoothed)
    got = ema_scores(scores, config.ema_alpha)
    softmax = np.exp(got) / np.exp(got).sum(1, keepdims=True)
    np.testing.assert_allclose(softmax, np.array(expected), atol=1e-6)


def test_no_labelled_steps_is_an_error():
    with pytest.raises(ValueError, match="no labelled steps"):
        fit_logit_scale(np.zeros((0, 3)), np.zeros(0, dtype=int))
