from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from live_snn.errors import CorruptFileError, SourceError
from live_snn.events import EventBatch, Resolution, events_checksum
from live_snn.sources.aedat4 import Aedat4Source

dv = pytest.importorskip("dv_processing")


def dv_events(path: Path) -> np.ndarray:
    """dv-processing's own reading: every batch of a plain MonoCameraRecording loop."""
    recording = dv.io.MonoCameraRecording(str(path))
    batches = []
    while (store := recording.getNextEventBatch()) is not None:
        batches.append(EventBatch.from_dv_numpy(store.numpy(), (1, 1)).events)
    return np.concatenate(batches)


def read_all(source: Aedat4Source) -> np.ndarray:
    return np.concatenate([b.events for b in source])


def write_flipped(good: Path, damaged: Path) -> Path:
    """A copy of ``good`` with 40 bytes in the middle flipped: the damage that makes
    dv-processing 2.0.4 spin forever inside a compressed packet."""
    data = bytearray(good.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 40] = bytes(b ^ 0xA5 for b in data[middle : middle + 40])
    damaged.write_bytes(bytes(data))
    return damaged


def test_every_recording_matches_dv_processing(all_recordings):
    assert all_recordings, "no recordings found"
    for path in all_recordings:
        expected = dv_events(path)
        with Aedat4Source(path) as source:
            events = read_all(source)
            assert len(events) == len(expected), path.name
            assert events_checksum(events) == events_checksum(expected), path.name
            assert (source.start_us, source.end_us) == (expected["t"][0], expected["t"][-1])
            assert source.resolution == Resolution.of(
                dv.io.MonoCameraRecording(str(path)).getEventResolution()
            )


def test_davis346_file_with_frames_imu_triggers(recordings_dir):
    path = recordings_dir / "davis346_mixed_streams.aedat4"
    with Aedat4Source(path) as source:
        assert source.streams == {"events": True, "frames": True, "imu": True, "triggers": True}
        assert (source.resolution.width, source.resolution.height) == (346, 260)
        assert "DAVIS346" in source.camera_name
        batches = list(source)
    events = np.concatenate([b.events for b in batches])
    assert len(events) == len(dv_events(path))
    assert events["x"].max() < 346 and events["y"].max() < 260
    assert not source.is_live and source.labels is None


def test_seek_starts_at_first_event_at_or_after(recordings_dir):
    path = recordings_dir / "dvs128_arms_a.aedat4"
    expected = dv_events(path)
    t = expected["t"]
    target = int(t[len(t) // 3]) + 1  # between events, most likely
    with Aedat4Source(path) as source:
        list(source)  # to the end first: seek must also rewind
        source.seek(target)
        after = read_all(source)
    first = int(np.searchsorted(t, target, side="left"))
    assert after["t"][0] == t[first] and after["t"][0] >= target
    assert events_checksum(after) == events_checksum(expected[first:])


def test_start_us_and_seek_during_iteration(recordings_dir):
    path = recordings_dir / "dvsgesture_sample_02.aedat4"
    expected = dv_events(path)
    t = expected["t"]
    middle = int(t[len(t) // 2])
    with Aedat4Source(path, start_us=middle) as source:
        iterator = iter(source)
        first = next(iterator)
        assert first.t_first == t[np.searchsorted(t, middle)]
        source.seek(int(t[0]))
        assert next(iterator).t_first == t[0]  # takes effect on the next batch


def test_flipped_bytes_fail_in_bounded_time_keeping_good_batches(
    recordings_dir, tmp_path, run_isolated
):
    """dv-processing alone spins forever on this file (checked below in a child)."""
    good = recordings_dir / "dvsgesture_sample_05.aedat4"
    damaged = write_flipped(good, tmp_path / "flipped.aedat4")
    result = run_isolated(
        f"""
        import json, time
        import numpy as np
        from live_snn.errors import CorruptFileError
        from live_snn.events import events_checksum
        from live_snn.sources.aedat4 import Aedat4Source
        started = time.monotonic()
        source = Aedat4Source({str(damaged)!r}, decode_timeout_s=1.0)
        batches = []
        try:
            for batch in source:
                batches.append(batch.events)
            outcome = {{"error": None}}
        except CorruptFileError as exc:
            outcome = {{"error": str(exc), "events_read": exc.events_read, "path": exc.path}}
        source.close()
        got = np.concatenate(batches) if batches else np.empty(0)
        outcome.update(n=len(got), seconds=time.monotonic() - started,
                       checksum=events_checksum(got) if len(got) else None)
        print(json.dumps(outcome))
        """,
        deadline_s=60,
    )
    assert result["error"] is not None, "the damage was not detected"
    assert "damaged" in result["error"] and str(damaged) in result["error"]
    assert result["path"] == str(damaged)
    assert result["events_read"] == result["n"] > 0
    assert result["seconds"] < 30
    expected = dv_events(good)
    assert result["checksum"] == events_checksum(expected[: result["n"]])  # a clean prefix


def test_dv_processing_alone_hangs_on_the_flipped_file(recordings_dir, tmp_path):
    """The hazard the watchdog exists for; if a dv-processing release fixes it, this test
    says so (and the watchdog could go)."""
    import subprocess
    import sys

    damaged = write_flipped(recordings_dir / "dvsgesture_sample_05.aedat4", tmp_path / "f.aedat4")
    code = (
        "import dv_processing as dv, sys\n"
        "r = dv.io.MonoCameraRecording(sys.argv[1])\n"
        "while r.getNextEventBatch() is not None: pass\n"
    )
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-c", code, str(damaged)], timeout=3, capture_output=True)


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (5, "truncated at byte 5"),
        (200, "truncated at byte 200"),
        ("half", "data table"),
        ("end-3", "truncated"),
    ],
)
def test_truncated_file(recordings_dir, tmp_path, cut, message):
    good = (recordings_dir / "dvsgesture_sample_01.aedat4").read_bytes()
    size = {"half": len(good) // 2, "end-3": len(good) - 3}.get(cut, cut)
    path = tmp_path / "cut.aedat4"
    path.write_bytes(good[:size])
    with pytest.raises(CorruptFileError, match=message) as info:
        Aedat4Source(path)
    assert str(path) in str(info.value)
    if cut == "half":
        assert f"truncated at byte {size}" in str(info.value)


def test_wrong_header(recordings_dir, tmp_path):
    path = tmp_path / "renamed.aedat4"
    shutil.copy(recordings_dir / "dvs128_arms_b.aedat4", path)
    with path.open("r+b") as f:
        f.write(b"#!AER-DAT3.1\r\n")
    with pytest.raises(CorruptFileError, match=r"not an AEDAT4 file: header is b'#!AER-DAT3\.1"):
        Aedat4Source(path)


def test_damaged_index_is_reported_not_hung(recordings_dir, tmp_path, run_isolated):
    good = (recordings_dir / "dvs128_arms_b.aedat4").read_bytes()
    # bytes inside the compressed data table (the last few hundred bytes of the file)
    data = bytearray(good)
    data[-60:-50] = b"\x00" * 10
    path = tmp_path / "index.aedat4"
    path.write_bytes(bytes(data))
    result = run_isolated(
        f"""
        import json
        from live_snn.errors import CorruptFileError
        from live_snn.sources.aedat4 import Aedat4Source
        try:
            Aedat4Source({str(path)!r}, decode_timeout_s=1.0).close()
            print(json.dumps({{"error": None}}))
        except CorruptFileError as exc:
            print(json.dumps({{"error": str(exc)}}))
        """
    )
    assert result["error"] and str(path) in result["error"]
    assert "Stacktrace" not in result["error"] and "/project/" not in result["error"]


def test_not_a_file(tmp_path):
    with pytest.raises(SourceError, match="no such AEDAT4 file"):
        Aedat4Source(tmp_path / "missing.aedat4")
    empty = tmp_path / "empty.aedat4"
    empty.write_bytes(b"")
    with pytest.raises(CorruptFileError, match="truncated at byte 0"):
        Aedat4Source(empty)


def test_labels_csv_beside_the_file_become_the_label_track(recordings_dir, tmp_path):
    recording = shutil.copy(recordings_dir / "dvsgesture_sample_01.aedat4", tmp_path / "s.aedat4")
    with Aedat4Source(recording) as source:
        assert source.labels is None and "labelled" not in source.description
    (tmp_path / "s_labels.csv").write_text(
        "class,startTime_usec,endTime_usec\n3,1100000,1600000\n11,1700000,2400000\n")
    with Aedat4Source(recording) as source:
        assert [(s.label, s.start_us, s.end_us) for s in source.labels.segments] == [
            (2, 1_100_000, 1_600_000), (10, 1_700_000, 2_400_000)]
        assert "labelled" in source.description
        np.testing.assert_array_equal(source.labels.label_at(np.array([1_000_000, 1_200_000])),
                                      [-1, 2])
    (tmp_path / "s_labels.csv").write_text("class,startTime_usec,endTime_usec\n12,0,10\n")
    with pytest.raises(CorruptFileError, match=r"s_labels\.csv: line 2: class 12"):
        Aedat4Source(recording)


def test_close_is_idempotent_and_stops_the_decoder(recordings_dir):
    source = Aedat4Source(recordings_dir / "dvsgesture_sample_03.aedat4")
    process = source._process
    source.close()
    source.close()
    assert process.poll() is not None
    assert list(source) == []


def test_close_from_another_thread_ends_iteration_quietly(recordings_dir):
    import threading

    source = Aedat4Source(recordings_dir / "dvs128_arms_a.aedat4")
    iterator = iter(source)
    first = next(iterator)
    closer = threading.Thread(target=source.close)
    closer.start()
    closer.join()
    rest = list(iterator)  # no CorruptFileError: the decoder was stopped on purpose
    assert len(first) > 0 and sum(len(b) for b in rest) < 263569


def test_time_going_back_between_packets_is_a_clear_error(tmp_path):
    """dv-processing's time-range read (used for seeking) refuses such a file; the error
    says why instead of reporting a crashed decoder."""
    from live_snn.sinks.aedat4_writer import EVENTS_PER_PACKET, Aedat4Writer

    n = 3 * EVENTS_PER_PACKET
    t = 1_000_000 + 100 * np.arange(n, dtype=np.int64)
    t[2 * EVENTS_PER_PACKET : 2 * EVENTS_PER_PACKET + 100] -= 1_500_000  # third packet starts early
    events = EventBatch.from_arrays(t, np.arange(n) % 128, np.arange(n) % 128, np.arange(n) % 2,
                                    (128, 128))
    path = tmp_path / "backwards.aedat4"
    with Aedat4Writer(path, events.resolution, "test") as writer:
        writer.write(events)
    with Aedat4Source(path) as source, pytest.raises(CorruptFileError) as info:
        list(source)
    message = str(info.value)
    assert str(path) in message and "timestamps go backwards" in message
    assert "exit code" not in message and 0 < info.value.events_read < n
