from __future__ import annotations

import json
import math

import numpy as np
import pytest

from live_snn.binning import BinningConfig
from live_snn.engine.records import Prediction, SessionInfo
from live_snn.errors import LiveSnnError
from live_snn.sinks.jsonl import PredictionWriter, prediction_record, read_predictions


def session() -> SessionInfo:
    binning = BinningConfig(dt_us=10_000, sensor=(346, 260), model=(64, 64))
    return SessionInfo(
        source_description="test", is_live=False, seekable=True, binning=binning,
        start_us=1_000, end_us=50_999, class_names=("a", "b", "c"),
        attention_channels={"blocks.3.attention": 4}, spiking_layers=("lif_out",),
        window_steps=20, streams_by_step=True, device="cpu", has_labels=False,
        model_sha256="ab" * 32,
    )


def prediction(k: int, *, event_to_bin: float = 0.5) -> Prediction:
    probs = np.array([0.2, 0.5, 0.3], np.float32)
    return Prediction(
        bin=k, t_start_us=1_000 + k * 10_000, t_end_us=11_000 + k * 10_000, events=7 * k,
        scores=np.array([0.1, 0.3, 0.2], np.float32), probs=probs, smoothed=probs, label=1,
        label_name="b", confidence=0.5, uncertain=False, onset=k == 2,
        attention={"blocks.3.attention": {p: np.full(4, 0.25, np.float32)
                                          for p in ("gate", "branch_a", "branch_b")}},
        spike_rates={"lif_out": 0.125},
        latency_ms={"event_to_bin": event_to_bin, "queue": 0.1, "step": 2.0,
                    "bin_to_prediction": 2.2},
    )


def test_writer_then_reader_round_trip(tmp_path):
    path = tmp_path / "p.jsonl"
    with PredictionWriter(path, session(), include_taps=True, header_extra={"note": "x"}) as w:
        for k in range(5):
            w.write(prediction(k, event_to_bin=math.nan if k == 0 else 0.5))
    header, bins = read_predictions(path)
    assert header["type"] == "session" and header["format"] == "live_snn.predictions/1"
    assert header["num_bins"] == 5 and header["note"] == "x"
    assert header["binning"]["sensor"] == [346, 260] and header["model_sha256"] == "ab" * 32
    assert "346x260 sensor" in header["mapping"]
    assert [b["bin"] for b in bins] == list(range(5))
    assert bins[0]["latency_ms"]["event_to_bin"] is None  # an empty bin has no event latency
    assert bins[1]["probs"] == [0.2, 0.5, 0.3] and bins[2]["onset"] is True
    assert bins[3]["attention"]["blocks.3.attention"]["gate"] == [0.25] * 4
    assert bins[3]["spike_rates"] == {"lif_out": 0.125}
    assert len(path.read_text().splitlines()) == 6


def test_record_without_taps_is_small():
    record = prediction_record(prediction(1), include_scores=False)
    assert "attention" not in record and "scores" not in record
    json.dumps(record, allow_nan=False)


def test_reader_names_the_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type": "session"}\n{"type": "bin", "bin": 0}\nnot json\n')
    with pytest.raises(LiveSnnError, match=r"bad.jsonl:3: not valid JSON"):
        read_predictions(path)
    path.write_text('{"type": "bin", "bin": 0}\n')
    with pytest.raises(LiveSnnError, match=r":1: expected the session header"):
        read_predictions(path)
