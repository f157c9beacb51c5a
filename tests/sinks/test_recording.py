from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from live_snn.cli import main
from live_snn.events import EventBatch, events_checksum
from live_snn.sinks.recording import RecordingError, StreamingChecksum, record
from live_snn.sources import open_source
from live_snn.sources.aedat4 import Aedat4Source
from live_snn.sources.memory import MemorySource

dv = pytest.importorskip("dv_processing")


def all_events(path: Path) -> EventBatch:
    with Aedat4Source(path) as source:
        return EventBatch.concatenate(list(source))


def test_streaming_checksum_equals_events_checksum():
    rng = np.random.default_rng(0)
    t = np.sort(rng.integers(0, 10**6, 1000))
    events = EventBatch.from_arrays(t, t % 9, t % 7, t % 2, (9, 7))
    checksum = StreamingChecksum()
    for lo in range(0, 1000, 333):
        checksum.update(events.events[lo : lo + 333])
    assert checksum.hexdigest() == events_checksum(events.events) and checksum.count == 1000


def test_record_from_a_network_stream_loses_nothing(
    recordings_dir, tmp_path, dv_server, tcp_port
):
    """A real DV server replays a real recording over loopback TCP; the recorded file holds
    exactly the served events."""
    recording = recordings_dir / "dvs128_arms_a.aedat4"
    dv_server(recording, str(tcp_port))
    out = tmp_path / "copy.aedat4"
    seen = []
    with open_source(f"tcp://127.0.0.1:{tcp_port}") as source:
        result = record(source, out, on_batch=lambda b: seen.append(len(b)))
    expected = all_events(recording)
    assert (
        result.end_reason.startswith("stream dropped: ") and "connection lost" in result.end_reason
    )
    assert result.events_written == result.events_read_back == len(expected)
    assert result.checksum_written == result.checksum_read_back == events_checksum(expected.events)
    assert result.verified and sum(seen) == len(expected)
    copy = dv.io.MonoCameraRecording(str(out))
    assert copy.getCameraName() == "DVS128_0279" and copy.getEventResolution() == (128, 128)
    assert out.stat().st_size < 0.8 * len(expected) * 16  # LZ4-compressed by dv's writer
    assert [p.name for p in tmp_path.iterdir()] == ["copy.aedat4"]  # no leftovers


def test_duration_refuse_and_force(recordings_dir, tmp_path):
    source_path = recordings_dir / "dvsgesture_sample_03.aedat4"
    events = all_events(source_path)
    out = tmp_path / "first_half_second.aedat4"
    with open_source(str(source_path)) as source:
        result = record(source, out, duration_s=0.5)
    kept = events.t < events.t_first + 500_000
    assert result.end_reason == "duration reached" and result.verified
    assert result.events_written == np.count_nonzero(kept)
    assert result.checksum_read_back == events_checksum(events.events[kept])
    with pytest.raises(RecordingError, match="exists; use --overwrite"):
        record(MemorySource(events, description="m"), out)
    result = record(MemorySource(events, description="m"), out, force=True)
    assert result.events_read_back == len(events)
    with pytest.raises(RecordingError, match=r"should end in \.aedat4"):
        record(MemorySource(events, description="m"), tmp_path / "x.dat")


def test_live_source_stops_on_wall_clock_without_events(tmp_path):
    class Silent(MemorySource):
        is_live = True

        def __iter__(self):
            while True:
                time.sleep(0.01)
                yield EventBatch.empty(self.resolution)

    silent = Silent(EventBatch.empty((8, 8)), description="silent")
    started = time.monotonic()
    result = record(silent, tmp_path / "silent.aedat4", duration_s=0.3)
    assert time.monotonic() - started < 5
    assert result.events_written == 0 == result.events_read_back and result.verified


def test_record_cli(recordings_dir, tmp_path, capsys):
    out = tmp_path / "cli.aedat4"
    source = str(recordings_dir / "dvs128_arms_b.aedat4")
    assert main(["record", source, str(out)]) == 0
    text = capsys.readouterr().out
    assert "wrote 18342 events" in text and "verified: read back 18342 events" in text
    assert main(["record", source, str(out)]) == 2
    assert "exists; use --overwrite" in capsys.readouterr().err
    assert main(["record", source, str(out), "--force", "--duration", "1"]) == 0
    assert "stopped: duration reached" in capsys.readouterr().out


# ---- every way a recording can end (issue #13, case 5) ----------------------------------------
def start_recording(read_line, source: str, out, *extra: str):
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "live_snn", "record", source, str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    read_line(process, 60, "recording ")
    return process


@pytest.mark.parametrize("signals", [("SIGTERM",), ("SIGINT", "SIGINT")])
def test_a_signal_ends_the_recording_with_a_finished_verified_file(recordings_dir, tmp_path,
                                                                    signals, read_line):
    """SIGTERM, or a second Ctrl-C 20 ms after the first, still finalises the file."""
    import signal
    import time

    out = tmp_path / "signalled.aedat4"
    process = start_recording(read_line, str(recordings_dir / "dvs128_arms_a.aedat4"), out, "--speed", "1")
    time.sleep(1.5)
    for name in signals:
        process.send_signal(getattr(signal, name))
        time.sleep(0.02)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "stopped: " + ("terminated (SIGTERM)" if signals == ("SIGTERM",) else "interrupted") \
        in stdout
    assert "verified: read back" in stdout and out.is_file()
    assert not (tmp_path / "signalled.partial.aedat4").exists()


def test_a_full_disk_keeps_the_partial_file_names_it_and_recover_finishes_it(
        recordings_dir, tmp_path, monkeypatch, capsys):
    import errno

    from live_snn.cli import main
    from live_snn.sinks import aedat4_writer

    real_write = aedat4_writer.Aedat4Writer.write

    def write_until_full(self, batch):
        if self.events_written >= 20_000:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, batch)

    monkeypatch.setattr(aedat4_writer.Aedat4Writer, "write", write_until_full)
    out = tmp_path / "full.aedat4"
    partial = tmp_path / "full.partial.aedat4"
    assert main(["record", str(recordings_dir / "dvs128_arms_a.aedat4"), str(out)]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and f"kept in {partial}" in err
    assert f"live-snn record --recover {partial}" in err and len(err.strip().splitlines()) == 1
    assert partial.is_file() and not out.exists()
    # the next recording to the same name does not overwrite the partial file...
    assert main(["record", str(recordings_dir / "dvs128_arms_b.aedat4"), str(out)]) == 2
    assert "is an unfinished recording from an earlier session" in capsys.readouterr().err
    # ...and --recover turns it into a normal, verified file
    monkeypatch.setattr(aedat4_writer.Aedat4Writer, "write", real_write)
    assert main(["record", "--recover", str(partial)]) == 0
    text = capsys.readouterr().out
    expected = all_events(recordings_dir / "dvs128_arms_a.aedat4")
    with open_source(str(out)) as recovered:
        got = EventBatch.concatenate(list(recovered))
    assert len(got) >= 20_000 and np.array_equal(got.events, expected.events[: len(got)])
    assert "verified: read back" in text and not partial.exists()


def test_recover_keeps_the_events_before_a_packet_cut_short(recordings_dir, tmp_path):
    """A crash mid-write leaves a partial file whose last packet is incomplete."""
    from live_snn.sinks.aedat4_writer import Aedat4Writer
    from live_snn.sinks.recording import recover

    events = all_events(recordings_dir / "dvs128_arms_b.aedat4")
    partial = tmp_path / "crash.partial.aedat4"
    writer = Aedat4Writer(partial, events.resolution, "DVS128")
    writer.write(events)
    writer._file.flush()  # never closed: no data table, like a killed process
    data = partial.read_bytes()
    partial.write_bytes(data[: len(data) - 5000])
    result = recover(partial)
    assert result.verified and 0 < result.events_written < len(events)
    assert "source error" in result.end_reason and "damaged" in result.end_reason
    with open_source(str(tmp_path / "crash.aedat4")) as recovered:
        got = EventBatch.concatenate(list(recovered))
    assert np.array_equal(got.events, events.events[: len(got)])


def test_a_source_that_crashes_keeps_what_it_delivered(tmp_path):
    from live_snn.sources.base import EventSource

    events = EventBatch.from_arrays(np.arange(1000) + 10, np.arange(1000) % 128,
                                    np.arange(1000) % 128, np.arange(1000) % 2, (128, 128))

    class Crashing(EventSource):
        resolution = events.resolution
        description = "crashing"

        def __iter__(self):
            yield events
            raise RuntimeError("driver fault")

    result = record(Crashing(), tmp_path / "crash.aedat4")
    assert result.verified and result.events_written == 1000
    assert "the source failed (RuntimeError: driver fault)" in result.end_reason
