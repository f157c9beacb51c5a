import dataclasses

import numpy as np
import pytest
import torch

from live_snn.engine.predictor import PredictorConfig
from live_snn.train.sessions import concat_clips
from live_snn.train.uncertainty import StepConfidence, fit_uncertain_below, uncertainty_report

NUM_CLASSES = 4
REST_BINS, GESTURE_BINS = 6, 10
# No smoothing, so each step's confidence is its own scores' softmax.
NO_SMOOTHING = PredictorConfig(smoothing="mean", mean_window=1, onset_steps=2, logit_scale=10.0)


def session_and_scores(labels, confident_from: int = 0, rest_peak: float = 0.0):
    """A session of gestures ``labels`` with rests between them, and scores that name each
    gesture from its ``confident_from``-th bin on and are flat (plus ``rest_peak`` on
    class 0) elsewhere."""
    clips = [torch.zeros((GESTURE_BINS, 2, 2, 2), dtype=torch.uint8) for _ in labels]
    session = concat_clips("s", clips, labels, 10_000, gap_bins=REST_BINS)
    scores = np.zeros((len(session), NUM_CLASSES))
    scores[:, 0] = rest_peak
    truth, since = session.labels.numpy(), session.since_onset.numpy()
    named = (truth >= 0) & (since >= confident_from)
    scores[np.flatnonzero(named), truth[named]] = 1.0
    return session, scores


def test_separable_confidences_give_a_threshold_between_rests_and_gestures():
    steps = StepConfidence(rest=np.array([0.1, 0.2, 0.3]), gesture=np.array([0.8, 0.9, 0.95]))
    threshold = fit_uncertain_below(steps)
    assert 0.3 < threshold <= 0.8
    assert threshold == pytest.approx(0.31)  # ties go to the lowest: fewest answers hidden
    assert steps.rates(threshold) == (1.0, 0.0)


def test_overlapping_confidences_maximise_rests_flagged_plus_gestures_kept():
    rng = np.random.default_rng(0)
    steps = StepConfidence(rest=rng.beta(2, 5, 500), gesture=rng.beta(5, 2, 2000))
    threshold = fit_uncertain_below(steps)

    def balanced(t):
        rest_uncertain, gesture_uncertain = steps.rates(t)
        return rest_uncertain + (1 - gesture_uncertain)

    best = max(balanced(t) for t in np.round(np.arange(0, 1, 0.01), 2))
    assert balanced(threshold) == pytest.approx(best)
    assert 0.3 < threshold < 0.7


def test_fitting_needs_rests_and_gestures():
    with pytest.raises(ValueError, match="both rest and gesture"):
        fit_uncertain_below(StepConfidence(rest=np.zeros(0), gesture=np.ones(5)))


def test_step_confidence_splits_rests_from_gestures_after_the_grace():
    session, scores = session_and_scores([1, 2])
    steps = StepConfidence.of([session], [scores], NO_SMOOTHING, grace_bins=3)
    assert steps.rest.size == REST_BINS
    assert steps.gesture.size == 2 * (GESTURE_BINS - 3)
    assert np.allclose(steps.rest, 1 / NUM_CLASSES)     # flat scores: an even split
    assert np.all(steps.gesture > 0.99)


def test_report_counts_uncertain_steps_as_no_answer():
    # The model names each gesture from its 4th bin on; before that its scores are flat.
    session, scores = session_and_scores([1, 2, 3], confident_from=4)
    config = dataclasses.replace(NO_SMOOTHING, uncertain_below=0.5)
    report = uncertainty_report([scores], [session], NUM_CLASSES, config, grace_bins=0, stable_steps=2)
    assert report["rest_uncertain"] == 1.0
    assert report["gesture_uncertain"] == pytest.approx(4 / GESTURE_BINS)
    assert report["shown_accuracy"] == 1.0
    # Named from bin 4, settled after two steps: 6 bins of 10 ms.
    assert report["shown_onset_latency_ms"]["median"] == pytest.approx(60.0)
    # A threshold above every confidence hides every answer: nothing is recognised.
    hidden = uncertainty_report([scores], [session], NUM_CLASSES,
                                dataclasses.replace(NO_SMOOTHING, uncertain_below=0.999999),
                                grace_bins=0, stable_steps=2)
    assert hidden["shown_accuracy"] == 0.0
    assert hidden["shown_onset_latency_ms"]["detected"] == 0


def test_data_without_rests_or_gestures_gets_no_threshold():
    from live_snn.train.uncertainty import threshold_for

    assert threshold_for(StepConfidence(rest=np.zeros(0), gesture=np.ones(5))) == 0.0
    assert threshold_for(StepConfidence(rest=np.full(5, 0.2), gesture=np.zeros(0))) == 0.0
    assert StepConfidence(rest=np.zeros(0), gesture=np.ones(5)).rates(0.5) == (None, 0.0)
    assert threshold_for(StepConfidence(rest=np.full(5, 0.2), gesture=np.full(5, 0.9))) > 0.2
