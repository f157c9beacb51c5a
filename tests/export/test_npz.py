"""Prediction records into arrays (through the step history) and the .npz round trip
(NumPy only, no pickle)."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass

import numpy as np
import pytest

from live_snn.engine.records import Prediction
from live_snn.export.npz import export_arrays, read_npz, write_npz
from live_snn.view.history import HistoryLayout, StepHistory

CLASSES = ("a", "b", "c")


def prediction(k: int, *, channels: int = 4, layers=("blocks.3.tcja", "blocks.4.tcja")) -> Prediction:
    rng = np.random.default_rng(k)
    probs = rng.dirichlet(np.ones(3)).astype(np.float32)
    smoothed = rng.dirichlet(np.ones(3)).astype(np.float32)
    return Prediction(
        bin=10 + k,
        t_start_us=1_000_000 + 10_000 * (10 + k),
        t_end_us=1_000_000 + 10_000 * (11 + k),
        events=100 * k,
        scores=rng.random(3).astype(np.float32),
        probs=probs,
        smoothed=smoothed,
        label=int(smoothed.argmax()),
        label_name=CLASSES[int(smoothed.argmax())],
        confidence=float(smoothed.max()),
        uncertain=k % 2 == 0,
        onset=k == 1,
        attention={
            layer: {part: np.full(channels, k + 0.1 * i, np.float32)
                    for i, part in enumerate(("gate", "branch_a", "branch_b"))}
            for layer in layers
        },
        spike_rates={"conv1.lif": 0.01 * k, "fc.lif": 0.02 * k},
        ground_truth=k % 3 - 1,
    )


def test_arrays_stack_every_record_in_bin_order():
    collected = StepHistory()
    records = [prediction(k) for k in range(5)]
    for record in records:
        collected.append([record])
    arrays = export_arrays(collected, CLASSES, t0_us=1_000_000)
    assert len(collected) == 5
    np.testing.assert_array_equal(arrays["bin"], [10, 11, 12, 13, 14])
    np.testing.assert_array_equal(arrays["t_start_us"], [r.t_start_us for r in records])
    np.testing.assert_allclose(arrays["t_start_s"], [0.10, 0.11, 0.12, 0.13, 0.14])
    np.testing.assert_allclose(arrays["t_end_s"] - arrays["t_start_s"], 0.01)
    np.testing.assert_array_equal(arrays["probs"], np.stack([r.probs for r in records]))
    np.testing.assert_array_equal(arrays["smoothed"], np.stack([r.smoothed for r in records]))
    np.testing.assert_array_equal(arrays["scores"], np.stack([r.scores for r in records]))
    assert arrays["probs"].dtype == np.float32 and arrays["probs"].shape == (5, 3)
    np.testing.assert_array_equal(arrays["label"], [r.label for r in records])
    np.testing.assert_array_equal(arrays["uncertain"], [True, False, True, False, True])
    np.testing.assert_array_equal(arrays["onset"], [False, True, False, False, False])
    np.testing.assert_array_equal(arrays["ground_truth"], [-1, 0, 1, -1, 0])
    np.testing.assert_array_equal(arrays["events"], [0, 100, 200, 300, 400])
    gate = arrays["attention/blocks.4.tcja/gate"]
    assert gate.shape == (5, 4)
    np.testing.assert_allclose(gate[:, 0], [0, 1, 2, 3, 4])
    np.testing.assert_allclose(arrays["attention/blocks.3.tcja/branch_b"][:, 0], [0.2, 1.2, 2.2, 3.2, 4.2])
    np.testing.assert_allclose(arrays["spike_rate/fc.lif"], [0, 0.02, 0.04, 0.06, 0.08])
    assert list(arrays["class_names"]) == list(CLASSES)
    assert tuple(collected.attention_layers) == ("blocks.3.tcja", "blocks.4.tcja")


def test_a_record_missing_a_layer_is_named():
    collected = StepHistory()
    collected.append([prediction(0)])
    with pytest.raises(ValueError, match=r"bin 11: no taps for layer\(s\) blocks.4.tcja"):
        collected.append([prediction(1, layers=("blocks.3.tcja",))])


def test_a_record_with_the_wrong_class_count_is_named():
    collected = StepHistory(layout=HistoryLayout(2, {}, ()))
    with pytest.raises(ValueError, match="bin 10: 3 class probabilities, expected 2"):
        collected.append([prediction(0)])


@dataclass(frozen=True)
class _Config:
    dt_us: int
    name: str


def test_npz_round_trip_loads_without_pickle(tmp_path):
    collected = StepHistory()
    for k in range(3):
        collected.append([prediction(k)])
    path = write_npz(tmp_path / "run.npz", export_arrays(collected, CLASSES),
                     {"model_sha256": "ab" * 32, "binning": _Config(10_000, "x"),
                      "count": np.int64(3)})
    assert path == tmp_path / "run.npz" and path.exists()
    assert not list(tmp_path.glob(".*partial"))
    with np.load(path, allow_pickle=False) as data:
        assert data["metadata"].shape == () and data["metadata"].dtype.kind == "U"
        meta = json.loads(str(data["metadata"]))
        assert meta["model_sha256"] == "ab" * 32
        assert meta["binning"] == {"dt_us": 10_000, "name": "x"}
        assert meta["count"] == 3 and meta["format"] == "live_snn.export"
        np.testing.assert_array_equal(data["probs"], export_arrays(collected, CLASSES)["probs"])
    arrays, metadata = read_npz(path)
    assert metadata["binning"]["dt_us"] == 10_000
    assert set(arrays) == set(export_arrays(collected, CLASSES))
    # No entry is a pickled object.
    with zipfile.ZipFile(path) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())


def test_write_npz_refuses_object_arrays_and_the_reserved_key(tmp_path):
    with pytest.raises(TypeError, match="'bad' has dtype object"):
        write_npz(tmp_path / "x.npz", {"bad": np.array([{}, 1], dtype=object)}, {})
    with pytest.raises(ValueError, match="'metadata' is reserved"):
        write_npz(tmp_path / "x.npz", {"metadata": np.zeros(1)}, {})
    assert not list(tmp_path.iterdir())


def test_an_empty_export_still_has_every_key_with_zero_rows(tmp_path):
    collected = StepHistory(layout=HistoryLayout(3, {"g": 4}, ("s",)))
    arrays = export_arrays(collected, CLASSES)
    assert arrays["probs"].shape == (0, 3)
    assert arrays["attention/g/gate"].shape[0] == 0
    assert arrays["spike_rate/s"].shape == (0,)
