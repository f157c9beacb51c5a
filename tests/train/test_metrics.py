import numpy as np
import pytest

from live_snn.train.metrics import (
    accuracy,
    confusion_matrix,
    latency_stats,
    per_class_recall,
    score_segments,
)
from live_snn.train.sessions import Segment


def test_confusion_rows_are_true_classes():
    c = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 3)
    assert c.tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert accuracy(c) == 0.5
    recall = per_class_recall(c)
    assert recall[0] == 0.5 and recall[1] == 1.0 and recall[2] == 0.0


def test_confusion_rejects_out_of_range_label_with_its_index():
    with pytest.raises(ValueError, match="label 3 at index 1"):
        confusion_matrix(np.array([0, 3]), np.array([0, 0]), 3)


def test_segment_majority_after_grace_and_latency_of_first_stable_run():
    #            seg A (label 1): bins 0..9      seg B (label 2): bins 10..15
    pred = np.array([0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2])
    scores = score_segments(pred, [Segment(1, 0, 10), Segment(2, 10, 16)], 3, grace=2,
                            stable_steps=3)
    a, b = scores
    assert a.voted == 1 and a.steps_scored == 8 and a.steps_correct == 7
    assert a.latency_bins == 7        # run 4,5,6 ends at bin 6 -> 7 bins after start
    assert b.voted == 2 and b.latency_bins == 5   # run 12,13,14
    never = score_segments(np.zeros(5, int), [Segment(1, 0, 5)], 2, grace=0, stable_steps=2)
    assert never[0].latency_bins is None and never[0].voted == 0


def test_latency_stats_report_misses_separately():
    stats = latency_stats([10.0, 20.0, None, 30.0, 40.0])
    assert stats.median == 25.0 and stats.detected == 4 and stats.total == 5
    assert stats.p90 == pytest.approx(37.0)
    assert latency_stats([None]).as_dict() == {"median": None, "p90": None, "detected": 0,
                                               "total": 1}
