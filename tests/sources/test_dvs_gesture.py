from __future__ import annotations

import numpy as np
import pytest
from aedat31_writer import polarity_packet, special_packet, write_aedat31, write_labels

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.errors import CorruptFileError, SourceError
from live_snn.labels import read_labels_csv
from live_snn.sources import open_source
from live_snn.sources.dvs_gesture import (
    DvsGestureDataset,
    DvsGestureSource,
    read_aedat31,
)


def gesture_file(path, *, seed=0, n=500, t0=1_000_000, duration=3_000_000):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(t0, t0 + duration, n))
    x, y, p = rng.integers(0, 128, n), rng.integers(0, 128, n), rng.integers(0, 2, n)
    half = n // 2
    packets = [
        polarity_packet(t[:half], x[:half], y[:half], p[:half]),
        special_packet(),
        polarity_packet(t[half:], x[half:], y[half:], p[half:]),
    ]
    write_aedat31(path, packets)
    return t, x, y, p


def test_polarity_events_decode_exactly(tmp_path):
    t, x, y, p = gesture_file(tmp_path / "user01_fluorescent.aedat")
    events, header = read_aedat31(tmp_path / "user01_fluorescent.aedat")
    assert header["Source 1"] == "DVS128" and header["version"] == "AER-DAT3.1"
    assert events.resolution == (128, 128) or events.resolution.width == 128
    assert np.array_equal(events.t, t) and np.array_equal(events.x, x)
    assert np.array_equal(events.y, y) and np.array_equal(events.p, p)


def test_invalid_events_dropped_and_overflow_applied(tmp_path):
    packet = polarity_packet(
        np.array([5, 6, 7]), [1, 2, 3], [4, 5, 6], [1, 0, 1], valid=[1, 0, 1], overflow=2
    )
    events, _ = read_aedat31(write_aedat31(tmp_path / "o.aedat", [packet]))
    assert list(events.t) == [(2 << 31) | 5, (2 << 31) | 7]
    assert list(events.x) == [1, 3] and list(events.p) == [1, 1]


def test_truncated_packet_names_the_byte_offset(tmp_path):
    path = tmp_path / "cut.aedat"
    gesture_file(path, n=100)
    data = path.read_bytes()
    path.write_bytes(data[:-13])
    with pytest.raises(
        CorruptFileError,
        match=rf"truncated at byte {len(data) - 13}: the packet at byte \d+ declares 50 events of 8 bytes",
    ) as info:
        read_aedat31(path)
    assert info.value.path == str(path)
    path.write_bytes(data[: data.index(b"#!END-HEADER\r\n") + 14 + 20])
    with pytest.raises(CorruptFileError, match="a packet header starts at byte"):
        read_aedat31(path)


def test_not_an_aedat31_file(tmp_path):
    path = tmp_path / "x.aedat"
    path.write_bytes(b"#!AER-DAT4.0\r\n....")
    with pytest.raises(CorruptFileError, match="not an AEDAT 3.x file"):
        read_aedat31(path)
    path.write_bytes(b"#!AER-DAT3.1\r\n#Format: RAW\r\n")
    with pytest.raises(CorruptFileError, match="END-HEADER"):
        read_aedat31(path)


def test_labels_are_zero_based_with_names(tmp_path):
    track = read_labels_csv(write_labels(tmp_path / "l.csv", [(1, 10, 20), (11, 30, 40)]))
    assert [(s.label, s.start_us, s.end_us) for s in track.segments] == [(0, 10, 20), (10, 30, 40)]
    assert track.class_names == DVS_GESTURE_CLASSES
    assert list(track.label_at(np.array([15, 25, 35]))) == [0, -1, 10]


@pytest.mark.parametrize(
    ("row", "message"),
    [("12,1,2", "class 12 outside 1..11"), ("3,5,5", "ends"), ("a,b,c", "integers"), ("1,2", "2 fields")],
)
def test_bad_label_rows(tmp_path, row, message):
    path = tmp_path / "bad.csv"
    path.write_text(f"class,startTime_usec,endTime_usec\n1,0,10\n{row}\n")
    with pytest.raises(CorruptFileError, match=rf"bad.csv: line 3.*{message}"):
        read_labels_csv(path)


@pytest.fixture
def gesture_root(tmp_path):
    for i, name in enumerate(["user01_fluorescent", "user02_lab", "user24_led"]):
        gesture_file(tmp_path / f"{name}.aedat", seed=i)
        write_labels(
            tmp_path / f"{name}_labels.csv",
            [(i + 1, 1_200_000, 1_900_000), (11, 2_000_000, 2_600_000)],
        )
    (tmp_path / "trials_to_train.txt").write_text("user01_fluorescent.aedat\nuser02_lab.aedat\n")
    (tmp_path / "trials_to_test.txt").write_text("user24_led.aedat\n")
    return tmp_path


def test_dataset_splits_files_and_trials(gesture_root):
    train, test = DvsGestureDataset(gesture_root, "train"), DvsGestureDataset(gesture_root, "test")
    assert [p.name for p in train.files] == ["user01_fluorescent.aedat", "user02_lab.aedat"]
    assert len(test) == 1
    events, track = train[1]
    assert len(events) == 500 and [s.label for s in track.segments] == [1, 10]
    trials = list(train.trials())
    assert [label for _, label in trials] == [0, 10, 1, 10]
    segment, _ = trials[0]
    assert segment.t.min() >= 1_200_000 and segment.t.max() < 1_900_000
    assert len(segment) == np.count_nonzero(
        (train[0][0].t >= 1_200_000) & (train[0][0].t < 1_900_000)
    )


def test_dataset_errors(gesture_root):
    with pytest.raises(SourceError, match="'train' or 'test'"):
        DvsGestureDataset(gesture_root, "val")
    (gesture_root / "trials_to_test.txt").write_text("user99_x.aedat\n")
    with pytest.raises(SourceError, match="lists 1 recording"):
        DvsGestureDataset(gesture_root, "test")


def test_source_replays_with_ground_truth(gesture_root):
    source = open_source(str(gesture_root / "user02_lab.aedat"))
    assert isinstance(source, DvsGestureSource) and source.labels is not None
    assert "labelled" in source.description
    events = np.concatenate([b.events for b in source])
    assert len(events) == 500
    source.seek(2_000_000)
    assert next(iter(source)).t_first >= 2_000_000
    (gesture_root / "user24_led_labels.csv").unlink()
    assert DvsGestureSource(gesture_root / "user24_led.aedat").labels is None
