"""Simulated sessions on disk: AEDAT4 that dv-processing reads back unchanged, and label
files in the DVS128 Gesture CSV form."""

from __future__ import annotations

import numpy as np
import pytest

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.errors import CorruptFileError, LiveSnnError
from live_snn.events import EventBatch, LabelSegment, LabelTrack, events_checksum
from live_snn.labels import read_labels_csv, write_labels_csv
from live_snn.sim import GestureSimulator, SimConfig
from live_snn.sinks.sim_session import write_session


@pytest.fixture(scope="module")
def session():
    config = SimConfig(seed=3, gesture_s=(1.5, 1.5), rest_s=(0.3, 0.3))
    return GestureSimulator(config).session(1)


def test_aedat4_reads_back_with_dv_processing_unchanged(session, tmp_path):
    import dv_processing as dv

    aedat, labels = write_session(session, tmp_path / "out", "sim_0")
    assert aedat == tmp_path / "out" / "sim_0.aedat4"
    assert labels == tmp_path / "out" / "sim_0_labels.csv"
    recording = dv.io.MonoCameraRecording(str(aedat))
    assert recording.getEventResolution() == (128, 128)
    assert recording.getCameraName() == "DVS128Sim"
    parts = []
    while (store := recording.getNextEventBatch()) is not None:
        parts.append(store.numpy())
    read = EventBatch.from_dv_numpy(np.concatenate(parts), (128, 128))
    assert len(read) == len(session.events)
    assert events_checksum(read.events) == events_checksum(session.events.events)


def test_label_file_is_dvs128_gesture_csv(session, tmp_path):
    _, labels = write_session(session, tmp_path, "s")
    lines = labels.read_text().splitlines()
    assert lines[0] == "class,startTime_usec,endTime_usec"
    rows = [tuple(int(v) for v in line.split(",")) for line in lines[1:]]
    assert rows == [(s.label + 1, s.start_us, s.end_us) for s in session.labels.segments]
    assert read_labels_csv(labels) == session.labels


def test_label_round_trip_keeps_every_class(tmp_path):
    track = LabelTrack(
        tuple(LabelSegment(k, 1_000_000 * k, 1_000_000 * k + 500_000) for k in range(11)),
        DVS_GESTURE_CLASSES,
    )
    path = write_labels_csv(track, tmp_path / "all_labels.csv")
    assert read_labels_csv(path) == track


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "line 1 must be the header"),
        ("label,start,end\n1,0,10\n", "line 1 must be the header"),
        ("class,startTime_usec,endTime_usec\n12,0,10\n", "line 2: class 12 outside 1..11"),
        ("class,startTime_usec,endTime_usec\n1,0,10\n0,20,30\n", "line 3: class 0 outside"),
        ("class,startTime_usec,endTime_usec\n1,zero,10\n", "line 2 must hold three integers"),
        ("class,startTime_usec,endTime_usec\n1,0\n", "line 2 has 2 fields"),
        ("class,startTime_usec,endTime_usec\n1,50,50\n", "line 2: segment ends at 50"),
    ],
)
def test_bad_label_files_are_reported_with_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad_labels.csv"
    path.write_text(content)
    with pytest.raises(CorruptFileError, match=message) as info:
        read_labels_csv(path)
    assert str(path) in str(info.value)
    assert info.value.path == str(path)


def test_missing_label_file_is_a_clear_error(tmp_path):
    with pytest.raises(CorruptFileError, match="cannot read label file"):
        read_labels_csv(tmp_path / "nope.csv")


def test_session_names_must_be_plain(session, tmp_path):
    with pytest.raises(LiveSnnError, match="plain file name"):
        write_session(session, tmp_path, "../escape")
