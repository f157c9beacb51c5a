from __future__ import annotations

import numpy as np
import pytest
from aedat31_writer import polarity_packet, write_aedat31, write_labels

from live_snn.events import EventBatch
from live_snn.sources.aedat4 import Aedat4Source
from live_snn.sources.info import WindowCounter, recording_info


def test_aedat4_info_matches_the_events(recordings_dir):
    path = recordings_dir / "davis346_mixed_streams.aedat4"
    info = recording_info(path, peak_window_us=10_000)
    with Aedat4Source(path) as source:
        events = EventBatch.concatenate(list(source))
    assert info.events == len(events) and info.format == "AEDAT4"
    assert info.sensor.startswith("DAVIS346") and info.resolution.width == 346
    assert info.streams == {"events": True, "frames": True, "imu": True, "triggers": True}
    assert info.duration_us == events.t_last - events.t_first
    windows = np.bincount((events.t - events.t_first) // 10_000)
    assert info.peak_rate_eps == pytest.approx(windows.max() * 100)
    assert info.peak_rate_eps >= info.mean_rate_eps > 0
    assert info.to_dict()["resolution"] == [346, 260]


def test_window_counter_batch_by_batch_equals_all_at_once():
    rng = np.random.default_rng(1)
    t = np.sort(rng.integers(0, 2_000_000, 50_000))
    events = EventBatch.from_arrays(t, t % 8, t % 8, t % 2, (8, 8))
    counter = WindowCounter(10_000)
    for lo in range(0, len(t), 7_777):  # batches that straddle windows
        counter.add(EventBatch(events.events[lo : lo + 7_777], events.resolution))
    assert np.array_equal(counter.counts, np.bincount((t - t[0]) // 10_000))


def test_gesture_and_nmnist_files(tmp_path, nmnist_dir):
    t = np.arange(1_000_000, 1_100_000, 100)
    path = write_aedat31(
        tmp_path / "user01_led.aedat", [polarity_packet(t, t % 128, t % 64, t % 2)]
    )
    write_labels(tmp_path / "user01_led_labels.csv", [(4, 1_000_000, 1_050_000)])
    info = recording_info(path)
    assert (info.events, info.sensor, info.label_segments) == (1000, "DVS128", 1)
    assert info.streams == {"events": True, "labels": True}
    sample = next(nmnist_dir.glob("Test/3/*.bin"))
    info = recording_info(sample)
    assert info.format == "N-MNIST binary" and info.resolution.width == 34 and info.events > 0
