from __future__ import annotations

import numpy as np
import pytest

from live_snn.events import EventBatch, Resolution, events_checksum
from live_snn.sinks.aedat4_writer import EVENTS_PER_PACKET, Aedat4Writer
from live_snn.sources.aedat4 import Aedat4Source

dv = pytest.importorskip("dv_processing")


def synthetic(n: int, resolution=(346, 260), seed=0) -> EventBatch:
    rng = np.random.default_rng(seed)
    t = 5_000_000 + np.cumsum(rng.integers(0, 40, n))
    return EventBatch.from_arrays(
        t,
        rng.integers(0, resolution[0], n),
        rng.integers(0, resolution[1], n),
        rng.integers(0, 2, n),
        resolution,
    )


def dv_read(path) -> tuple[np.ndarray, object]:
    recording = dv.io.MonoCameraRecording(str(path))
    parts = []
    while (store := recording.getNextEventBatch()) is not None:
        parts.append(EventBatch.from_dv_numpy(store.numpy(), (1, 1)).events)
    return np.concatenate(parts), recording


def test_dv_processing_reads_back_every_event(tmp_path):
    events = synthetic(3 * EVENTS_PER_PACKET + 123)
    path = tmp_path / "out.aedat4"
    with Aedat4Writer(path, events.resolution, "DAVIS346_test") as writer:
        writer.write(EventBatch(events.events[:7], events.resolution))  # a tiny packet too
        writer.write(EventBatch(events.events[7:], events.resolution))
        writer.write(EventBatch.empty(events.resolution))
    assert writer.events_written == len(events)
    read, recording = dv_read(path)
    assert events_checksum(read) == events_checksum(events.events)
    assert recording.getCameraName() == "DAVIS346_test"
    assert Resolution.of(recording.getEventResolution()) == events.resolution
    assert recording.getTimeRange() == (events.t_first, events.t_last)
    # the packet index is right: dv's indexed time-range read agrees with slicing
    t0, t1 = int(events.t[5000]), int(events.t[25000])
    assert len(recording.getEventsTimeRange(t0, t1)) == len(events.slice_time(t0, t1))


def test_file_without_index_still_reads(tmp_path):
    """A recording interrupted before close() keeps its packets."""
    events = synthetic(2500, resolution=(128, 128))
    path = tmp_path / "unfinished.aedat4"
    writer = Aedat4Writer(path, events.resolution, "DVS128")
    writer.write(events)
    writer._file.flush()
    copy = tmp_path / "copy.aedat4"
    copy.write_bytes(path.read_bytes())
    writer.close()
    read, _ = dv_read(copy)
    assert events_checksum(read) == events_checksum(events.events)


def test_aedat4_source_reads_uncompressed_file(tmp_path):
    events = synthetic(4000, resolution=(320, 240))
    path = tmp_path / "plain.aedat4"
    with Aedat4Writer(path, events.resolution, "DVXplorer") as writer:
        writer.write(events)
    with Aedat4Source(path) as source:
        assert source.header.compression == "none"
        read = np.concatenate([b.events for b in source])
    assert events_checksum(read) == events_checksum(events.events)
