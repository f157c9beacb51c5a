"""The real-data network used to measure the simulator: it loads only what matches its
description, computes what the description says on a known input, and its preprocessing
denoises, downsamples and bins as stated."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from live_snn.bench.judge import DEFAULT_JUDGE, JUDGE_TENSORS, RealGestureJudge, judge_frames
from live_snn.errors import LiveSnnError
from live_snn.events import EVENT_DTYPE


def _random_weights(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    tensors = {name: 0.3 * torch.randn(shape, generator=g) for name, shape in JUDGE_TENSORS.items()}
    for k in range(1, 5):
        tensors[f"lif{k}.beta"] = torch.tensor(0.8)
        tensors[f"lif{k}.threshold"] = torch.tensor(0.5)
    return tensors


def _reference_votes(w: dict[str, torch.Tensor], frames: np.ndarray) -> np.ndarray:
    """The description, written out once more in plain NumPy: 'same' 5x5 convolutions,
    max-pool 2, LIF with reset by subtraction decided from the previous membrane."""
    w = {k: v.double().numpy() for k, v in w.items()}

    def conv_same(x, weight, bias):  # x [C, H, W]
        c_out, c_in, k, _ = weight.shape
        pad = np.pad(x, ((0, 0), (2, 2), (2, 2)))
        h, wd = x.shape[1:]
        out = np.zeros((c_out, h, wd))
        for dy in range(k):
            for dx in range(k):
                out += np.einsum("oc,chw->ohw", weight[:, :, dy, dx], pad[:, dy:dy + h, dx:dx + wd])
        return out + bias[:, None, None]

    def pool(x):
        c, h, wd = x.shape
        return x.reshape(c, h // 2, 2, wd // 2, 2).max(axis=(2, 4))

    membranes = [None] * 4
    votes = np.zeros(11)
    for frame in frames.astype(np.float64):
        h = frame
        for k in range(1, 4):
            h = pool(conv_same(h, w[f"conv{k}.weight"], w[f"conv{k}.bias"]))
            m = np.zeros_like(h) if membranes[k - 1] is None else membranes[k - 1]
            beta, th = w[f"lif{k}.beta"], w[f"lif{k}.threshold"]
            m = beta * m + h - (m > th) * th
            membranes[k - 1], h = m, (m > th).astype(np.float64)
        out = w["linear1.weight"] @ h.reshape(-1) + w["linear1.bias"]
        m = np.zeros_like(out) if membranes[3] is None else membranes[3]
        m = w["lif4.beta"] * m + out - (m > w["lif4.threshold"]) * w["lif4.threshold"]
        membranes[3] = m
        votes += m > w["lif4.threshold"]
    return votes


def test_the_network_computes_what_its_description_says():
    weights = _random_weights()
    judge = RealGestureJudge(weights)
    frames = np.random.default_rng(1).poisson(1.5, (6, 2, 32, 32)).astype(np.float32)
    votes = judge.output_spikes(frames)
    assert votes.shape == (11,)
    np.testing.assert_array_equal(votes, _reference_votes(weights, frames))
    assert votes.sum() > 0  # the known input does make the output fire


def test_weights_that_do_not_match_the_description_are_refused_by_name(tmp_path):
    weights = _random_weights()
    weights["conv2.weight"] = torch.zeros(32, 16, 3, 3)
    del weights["lif4.beta"]
    with pytest.raises(LiveSnnError) as info:
        RealGestureJudge(weights)
    assert "conv2.weight: expected shape (32, 16, 5, 5), got (32, 16, 3, 3)" in str(info.value)
    assert "lif4.beta: expected shape (), got nothing" in str(info.value)
    with pytest.raises(LiveSnnError, match="no judge network at"):
        RealGestureJudge.load(tmp_path / "absent.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(LiveSnnError, match="cannot read the judge network"):
        RealGestureJudge.load(bad)
    good = tmp_path / "good.safetensors"
    save_file(_random_weights(), str(good))
    assert RealGestureJudge.load(good).output_spikes(np.zeros((2, 2, 32, 32))).shape == (11,)


def test_frames_keep_only_events_with_a_recent_neighbour_and_bin_at_32x32_in_40_ms():
    events = np.zeros(5, dtype=EVENT_DTYPE)
    # (t, x, y, p): a lone event; neighbours 5 ms apart; neighbours 38 and 25 ms apart.
    events[:] = [(1_000, 100, 100, 1), (2_000, 10, 20, 0), (7_000, 11, 21, 1),
                 (45_000, 12, 20, 1), (70_000, 12, 21, 0)]
    frames = judge_frames(events, 0, 80_000)
    assert frames.shape == (2, 2, 32, 32)
    # Only (7000, 11, 21, ON) had a neighbour event in the 10 ms before it.
    assert frames.sum() == 1
    assert frames[0, 1, 21 // 4, 11 // 4] == 1


@pytest.mark.skipif(not DEFAULT_JUDGE.is_file(), reason="../shared/data/judge is absent")
def test_the_shared_judge_loads_and_has_its_published_shapes():
    judge = RealGestureJudge.load()
    assert {name: tuple(t.shape) for name, t in judge.tensors.items()} == JUDGE_TENSORS
    assert judge.output_spikes(np.zeros((3, 2, 32, 32), np.float32)).shape == (11,)
