"""The batched runner: each stream stepped in a batch with others gets what it gets stepped
alone, whichever streams step with it, and a stream that waits, resets or ends leaves the
others' rows as they were."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from live_snn.engine.batched_runner import BatchedRunner
from live_snn.errors import LiveSnnError
from live_snn.model import load_checkpoint
from live_snn.model.inference import bfloat16_is_native

ROWS = 4
STEPS = 24


def spike_frames(rng: np.random.Generator, n: int) -> np.ndarray:
    counts = rng.integers(1, 6, size=(n, 2, 32, 32)).astype(np.float32)
    return counts * (rng.random((n, 2, 32, 32)) < 0.3)


def schedule(rng: np.random.Generator) -> list[list[int]]:
    """Which rows step at each call, in a random order: row 1 starts late, row 2 pauses for
    a while, row 3 ends early; the rest is random (a row with no bin sits a call out)."""
    calls = []
    for t in range(STEPS):
        rows = [r for r in range(ROWS) if rng.random() < 0.7]
        rows = [r for r in rows if not (r == 1 and t < 6) and not (r == 2 and 8 <= t < 15)
                and not (r == 3 and t >= 18)]
        rng.shuffle(rows)
        calls.append(rows)
    return calls


def gathered_schedule(rng: np.random.Generator) -> list[list[int]]:
    """Mostly every row in every call (as when the engine gathers the cameras' bins), in a
    random order each time, with a few calls a row misses; row 0's reset then falls between
    two calls of the same rows, whose batch state the runner keeps, and a lone row sometimes
    steps between two full calls."""
    calls = []
    for t in range(STEPS):
        rows = [r for r in range(ROWS) if not (t % 7 == 3 and r == t % ROWS)]
        if t % 7 == 5:
            rows = [t % ROWS]  # a lone row steps on its own state between two full calls
        rng.shuffle(rows)
        calls.append(rows)
    return calls


BFLOAT16 = pytest.param("bfloat16", marks=pytest.mark.skipif(
    not bfloat16_is_native(torch.device("cpu")), reason="this CPU has no bfloat16 instructions"))


@pytest.mark.parametrize("conv_dtype", ["float32", BFLOAT16])
@pytest.mark.parametrize("make_schedule", [schedule, gathered_schedule])
def test_each_row_equals_its_stream_stepped_alone(causal_ckpt, make_schedule, conv_dtype):
    """In bfloat16 too: its spikes differ from float32's, but a stream's are the same
    whichever streams share its call."""
    rng = np.random.default_rng(7)
    calls = make_schedule(rng)
    frames = {r: spike_frames(rng, STEPS) for r in range(ROWS)}
    reset_at = {0: 12}  # row 0 is reset before its 12th bin

    runner = BatchedRunner(load_checkpoint(causal_ckpt), torch.device("cpu"), rows=ROWS,
                           conv_dtype=conv_dtype)
    got: dict[int, list[np.ndarray]] = {r: [] for r in range(ROWS)}
    got_taps: dict[int, list[dict]] = {r: [] for r in range(ROWS)}
    for rows in calls:
        for r in rows:
            if reset_at.get(r) == len(got[r]):
                runner.reset_row(r)
        if not rows:
            continue
        result = runner.step(rows, [frames[r][len(got[r])] for r in rows], taps=True)
        assert result.scores.shape == (len(rows), 11) and len(result.attention) == len(rows)
        for i, r in enumerate(rows):
            got[r].append(result.scores[i])
            got_taps[r].append(result.attention[i])

    model = load_checkpoint(causal_ckpt).model
    if conv_dtype != "float32":
        model = model.fused_for_inference(conv_dtype=conv_dtype)
    assert max(len(v) for v in got.values()) > 10 and len(got[1]) > 0
    with torch.inference_mode():
        for r in range(ROWS):
            state, alone = model.init_state(1), []
            for k in range(len(got[r])):
                if reset_at.get(r) == k:
                    state = model.init_state(1)
                scores, state, taps = model.step(torch.from_numpy(frames[r][k])[None], state)
                alone.append(scores[0].numpy())
                alone_taps, _ = taps.to_numpy(0)
                for layer, parts in alone_taps.items():
                    for part, values in parts.items():
                        batched = got_taps[r][k][layer][part]
                        assert np.abs(batched - values).max() <= 1e-5, (r, k, layer, part)
            diff = np.abs(np.stack(got[r]) - np.stack(alone)).max()
            assert diff <= 1e-5, f"row {r}: batched differs from alone by {diff}"
    everything = np.concatenate([np.stack(v) for v in got.values()])
    assert everything.max() > 0 and len(np.unique(everything.argmax(1))) > 1, "trivial scores"


def test_resetting_or_releasing_a_row_leaves_the_others_as_they_were(causal_ckpt):
    rng = np.random.default_rng(3)
    runner = BatchedRunner(load_checkpoint(causal_ckpt), torch.device("cpu"), rows=3)
    for _ in range(4):
        runner.step([0, 1, 2], list(spike_frames(rng, 3)))
    before = [runner.row_state(r) for r in (0, 2)]
    runner.reset_row(1)
    runner.step([1], list(spike_frames(rng, 1)))  # row 1 alone: the others wait
    runner.release_row(1)
    after = [runner.row_state(r) for r in (0, 2)]
    for a, b in zip(before, after, strict=True):
        assert all(torch.equal(x, y) for x, y in zip(a.tensors(), b.tensors(), strict=True))
    assert any(t.abs().sum() > 0 for t in after[0].tensors())
    with pytest.raises(LiveSnnError, match="row 1 was released"):
        runner.step([0, 1], list(spike_frames(rng, 2)))
    with pytest.raises(IndexError, match="row 3 out of range"):
        runner.reset_row(3)
    with pytest.raises(ValueError, match="at most once"):
        runner.step([0, 0], list(spike_frames(rng, 2)))


def test_a_window_model_is_refused_for_several_streams(window_ckpt):
    with pytest.raises(LiveSnnError, match="several streams need a streaming model"):
        BatchedRunner(load_checkpoint(window_ckpt), torch.device("cpu"), rows=2)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("conv_dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("graph", [True, False])
def test_cuda_rows_equal_their_streams_stepped_alone(causal_ckpt, graph, conv_dtype):
    rng = np.random.default_rng(11)
    calls = schedule(rng)
    frames = {r: spike_frames(rng, STEPS) for r in range(ROWS)}
    device = torch.device("cuda")
    if conv_dtype == "bfloat16" and not bfloat16_is_native(device):
        pytest.skip("this GPU does not compute bfloat16 natively")
    runner = BatchedRunner(load_checkpoint(causal_ckpt, device=device), device, rows=ROWS,
                           cuda_graph=graph, conv_dtype=conv_dtype)
    assert runner.graphed == graph
    got: dict[int, list[np.ndarray]] = {r: [] for r in range(ROWS)}
    for rows in calls:
        if rows:
            result = runner.step(rows, [frames[r][len(got[r])] for r in rows])
            for i, r in enumerate(rows):
                got[r].append(result.scores[i])
    model = load_checkpoint(causal_ckpt, device=device).model
    if conv_dtype != "float32":  # bfloat16 in both: the CUDA graph must capture its casts
        model = model.fused_for_inference(conv_dtype=conv_dtype)
    with torch.inference_mode():
        for r in range(ROWS):
            state, alone = model.init_state(1), []
            for k in range(len(got[r])):
                scores, state, _ = model.step(torch.from_numpy(frames[r][k])[None].cuda(), state)
                alone.append(scores[0].cpu().numpy())
            assert np.abs(np.stack(got[r]) - np.stack(alone)).max() <= 1e-5, f"row {r}"


def test_runners_step_the_inference_copy_of_the_checkpoint_model(causal_ckpt):
    from live_snn.engine.runner import ModelRunner

    checkpoint = load_checkpoint(causal_ckpt)
    batched = BatchedRunner(checkpoint, torch.device("cpu"), rows=2)
    single = ModelRunner(checkpoint, torch.device("cpu"))
    assert batched.model.inference_fused and single.model.inference_fused
    assert not checkpoint.model.inference_fused  # the checkpoint's own model is left alone
    rng = np.random.default_rng(3)
    frames = spike_frames(rng, 6)
    state = checkpoint.model.init_state(1)
    with torch.inference_mode():
        for frame in frames:
            expected, state, _ = checkpoint.model.step(torch.from_numpy(frame)[None], state)
            got = batched.step([1], [frame]).scores
            assert np.array_equal(got[0], expected[0].numpy())
            assert np.array_equal(single.step(frame).scores, expected[0].numpy())


def test_malloc_is_left_alone_unless_the_config_asks(causal_ckpt, monkeypatch):
    """keep_freed_memory changes the whole process: a library user's (and pytest's) process
    is left as it is by default; the live-snn commands, which own theirs, ask for it."""
    import argparse

    from live_snn.cli.engine_options import engine_config_from_args
    from live_snn.engine import host_memory
    from live_snn.engine.config import EngineConfig

    calls = []
    monkeypatch.setattr(host_memory, "keep_freed_memory", lambda: calls.append(1) or True)
    BatchedRunner(load_checkpoint(causal_ckpt), torch.device("cpu"), rows=2,
                  keep_freed_memory=EngineConfig().keep_freed_memory)
    assert calls == []
    BatchedRunner(load_checkpoint(causal_ckpt), torch.device("cpu"), rows=2, keep_freed_memory=True)
    assert calls == [1]
    args = argparse.Namespace(device="cpu", smoothing="ema", tau=5.0, mean_window=10,
                              onset_steps=3, uncertain_below=0.0, reset_on_silence=None)
    assert engine_config_from_args(args, speed=None).keep_freed_memory


def test_a_new_runner_starts_every_row_at_its_initial_state(causal_ckpt):
    """The runner warms up on scratch states before any stream is read (every batch size
    once): no row may carry anything from that."""
    checkpoint = load_checkpoint(causal_ckpt)
    runner = BatchedRunner(checkpoint, torch.device("cpu"), rows=3)
    initial = checkpoint.model.init_state(1)
    for row in range(3):
        assert all(torch.equal(a, b) for a, b in
                   zip(runner.row_state(row).tensors(), initial.tensors(), strict=True))


def test_bfloat16_is_refused_where_it_would_be_emulated(causal_ckpt, monkeypatch):
    """Emulated bfloat16 is slower than float32: asking for it there is a mistake to name,
    not a silent slowdown."""
    from live_snn.engine import runner as runner_module

    monkeypatch.setattr(runner_module, "bfloat16_is_native", lambda device: False)
    with pytest.raises(LiveSnnError, match="no bfloat16 instructions.*--conv-dtype float32"):
        BatchedRunner(load_checkpoint(causal_ckpt), torch.device("cpu"), rows=2,
                      conv_dtype="bfloat16")
    with pytest.raises(LiveSnnError, match="no bfloat16 instructions"):
        runner_module.ModelRunner(load_checkpoint(causal_ckpt), torch.device("cpu"),
                                  conv_dtype="bfloat16")
