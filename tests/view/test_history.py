from __future__ import annotations

import numpy as np
import pytest

from live_snn.view.history import HistoryConfig, StepHistory


def test_rows_follow_bins_and_keep_every_field(predictions):
    history = StepHistory()
    batch = predictions(0, 9)
    history.append(batch[:4])
    history.append(batch[4:])
    assert len(history) == 10 and history.first_bin == 0 and history.last_bin == 9
    assert history.latest_bin == 9
    np.testing.assert_array_equal(history.column("label"), [p.label for p in batch])
    np.testing.assert_array_equal(history.column("events"), [p.events for p in batch])
    np.testing.assert_array_equal(history.column("probs"), np.stack([p.probs for p in batch]))
    record = history.step(7)
    assert record.bin == 7 and record.t_start_us == batch[7].t_start_us
    assert record.ground_truth == batch[7].ground_truth
    np.testing.assert_array_equal(record.smoothed, batch[7].smoothed)
    np.testing.assert_array_equal(record.attention["blocks.4.tcja"]["branch_b"],
                                  batch[7].attention["blocks.4.tcja"]["branch_b"])
    np.testing.assert_array_equal(record.sensor_frame, batch[7].sensor_frame)
    np.testing.assert_array_equal(record.frame, batch[7].frame)
    assert history.spiking_layers == tuple(batch[0].spike_rates)
    assert record.spike_rates[1] == pytest.approx(batch[7].spike_rates["blocks.1.lif"])


def test_replaying_bins_overwrites_instead_of_appending(predictions):
    history = StepHistory()
    history.append(predictions(0, 19))
    history.append(predictions(5, 8, seed=123))  # a seek back replays bins 5..8
    assert len(history) == 20
    assert history.latest_bin == 8
    np.testing.assert_array_equal(history.step(6).probs, predictions(6, 6, seed=123)[0].probs)


def test_gaps_are_marked_missing_and_windows_pad_with_nan(predictions):
    history = StepHistory()
    history.append(predictions(10, 12) + predictions(15, 16))
    assert len(history) == 7 and history.first_bin == 10
    assert not history.has(13) and history.has(15) and not history.has(9)
    assert history.column("label")[3] == -1
    window = history.attention_window("blocks.3.tcja", 16, 8)
    gate = window["gate"]
    assert gate.shape == (8, 6)
    assert np.isnan(gate[0]).all()           # bin 9 was never seen
    assert np.isnan(gate[4:6]).all()         # bins 13 and 14 are a gap
    assert np.isfinite(gate[[1, 2, 3, 6, 7]]).all()
    with pytest.raises(KeyError, match="blocks.9.tcja"):
        history.attention_window("blocks.9.tcja", 16, 4)


def test_capacity_drops_oldest_rows(predictions):
    history = StepHistory(HistoryConfig(capacity_steps=64, frame_budget_bytes=0))
    for first in range(0, 200, 10):
        history.append(predictions(first, first + 9))
    assert len(history) <= 64
    assert history.last_bin == 199 and history.has(199)
    assert history.first_bin > 0 and not history.has(history.first_bin - 1)
    kept = history.column("label")
    expected = [p.label for p in predictions(history.first_bin, 199)]
    np.testing.assert_array_equal(kept, expected)
    assert history.step(199).sensor_frame is None  # no frame budget: no frames kept


def test_seeking_before_the_first_bin_extends_the_history_down(predictions):
    history = StepHistory()
    history.append(predictions(50, 59))
    history.append(predictions(40, 44))
    assert history.first_bin == 40 and history.last_bin == 59
    assert history.has(40) and history.has(59) and not history.has(45)
    np.testing.assert_array_equal(history.step(55).probs, predictions(55, 55)[0].probs)


def test_frame_ring_keeps_only_the_newest_frames(predictions):
    frame_bytes = 2 * 30 * 40  # uint8 sensor frames; model frames take the other half
    history = StepHistory(HistoryConfig(frame_budget_bytes=2 * 10 * frame_bytes))
    history.append(predictions(0, 29))
    assert history.step(29).sensor_frame is not None
    assert history.step(5).sensor_frame is None  # evicted, the rest of the record stays
    assert history.step(5).label == predictions(5, 5)[0].label
    frames = history.frames_between(25, 29, sensor=True)
    assert frames.shape == (5, 2, 30, 40)
    np.testing.assert_array_equal(frames[-1], predictions(29, 29)[0].sensor_frame)


def test_clear_forgets_the_layout(predictions):
    history = StepHistory()
    history.append(predictions(0, 3))
    history.clear()
    assert len(history) == 0 and history.latest_bin is None and history.step(0) is None
    history.append(predictions(0, 2, num_classes=4))
    assert history.num_classes == 4
