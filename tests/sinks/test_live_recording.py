"""A recording started and stopped by hand while the engine runs: every event read goes to
the AEDAT4 file and the predictions of the recorded bins beside it; a jump back in time stops
it cleanly."""

from __future__ import annotations

import numpy as np
import pytest

from live_snn.engine import Engine, EngineConfig
from live_snn.errors import LiveSnnError
from live_snn.events import EVENT_DTYPE, EventBatch, Resolution
from live_snn.sinks.jsonl import read_predictions
from live_snn.sinks.live_recording import LiveRecording
from live_snn.sources.aedat4 import Aedat4Source
from live_snn.sources.memory import MemorySource


def events(n: int = 20_000, span_us: int = 1_000_000) -> EventBatch:
    rng = np.random.default_rng(0)
    out = np.zeros(n, dtype=EVENT_DTYPE)
    out["t"] = np.sort(rng.integers(0, span_us, n))
    out["x"], out["y"] = rng.integers(0, 128, n), rng.integers(0, 128, n)
    out["p"] = rng.integers(0, 2, n)
    return EventBatch(out, Resolution(128, 128))


@pytest.fixture
def engine(causal_ckpt):
    engine = Engine(EngineConfig(device="cpu", speed=None))
    engine.open(MemorySource(events(), description="memory", batch_us=50_000))
    engine.load_model(causal_ckpt)
    yield engine
    engine.close()


def test_every_event_and_the_predictions_of_the_recorded_bins(engine, tmp_path):
    recording = LiveRecording(tmp_path / "r.aedat4", engine.session_info())
    engine.subscribe_batches(recording.on_batch)
    engine.subscribe(recording.on_prediction)
    engine.start()
    assert engine.wait(60)
    status = recording.stop("end of source")
    assert status.stopped and status.events == 20_000 and status.reason == "end of source"
    with Aedat4Source(tmp_path / "r.aedat4") as source:
        written = np.concatenate([b.events for b in source])
    assert np.array_equal(written, events().events)
    header, bins = read_predictions(tmp_path / "r.predictions.jsonl")
    assert header["recording"] == "r.aedat4" and len(bins) == status.bins >= 99
    assert recording.stop("again").reason == "end of source"   # closing twice is harmless


def test_a_jump_back_in_time_stops_it_with_everything_so_far(engine, tmp_path):
    recording = LiveRecording(tmp_path / "r.aedat4", engine.session_info())
    batch = events()
    recording.on_batch(batch.slice_time(500_000, 600_000))
    recording.on_batch(batch.slice_time(100_000, 200_000))    # a seek back
    status = recording.status()
    assert status.stopped and "jumped back" in status.reason
    with Aedat4Source(tmp_path / "r.aedat4") as source:
        assert sum(len(b) for b in source) == status.events == len(
            batch.slice_time(500_000, 600_000))


def test_an_existing_file_is_refused_unless_forced(engine, tmp_path):
    (tmp_path / "r.aedat4").write_bytes(b"keep")
    with pytest.raises(LiveSnnError, match="exists"):
        LiveRecording(tmp_path / "r.aedat4", engine.session_info())
    assert (tmp_path / "r.aedat4").read_bytes() == b"keep"
