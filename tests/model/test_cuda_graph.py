"""The CUDA-graph steps replay exactly what model.step computes (the graphs need a CUDA
device; the masked step they capture is checked on the CPU too)."""

from __future__ import annotations

import pytest
import torch

from live_snn.model import ModelConfig, build_model

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.gpu
@needs_cuda
def test_graph_replay_equals_eager_steps_and_snapshots(active_model, spike_input):
    from live_snn.model.cuda_graph import CudaGraphStep

    model = active_model(ModelConfig(preset="lite", encoder="gac", tim_blocks=(1,))).cuda()
    x = spike_input(6, 2, 2, 64, 64).cuda()
    with torch.inference_mode():
        state = model.init_state(2)
        eager = []
        for frame in x:
            scores, state, taps = model.step(frame, state)
            eager.append((scores, taps.attention["blocks.3.tcja"].gate))
        graphed = CudaGraphStep(model, batch_size=2)
        for frame, (scores, gate) in zip(x, eager, strict=True):
            g_scores, g_taps = graphed.step(frame)
            torch.testing.assert_close(g_scores, scores, rtol=0, atol=1e-5)
            torch.testing.assert_close(g_taps.attention["blocks.3.tcja"].gate, gate)
        for name, tensors in graphed.snapshot().layers.items():
            for key, t in tensors.items():
                torch.testing.assert_close(t, state.layers[name][key], rtol=0, atol=1e-5)
        graphed.reset_rows([0])
        assert graphed.state.layers["lif_out"]["v"][0].abs().sum() == 0


def test_graph_refuses_a_cpu_model():
    from live_snn.model.cuda_graph import CudaGraphStep

    with pytest.raises(RuntimeError, match="CUDA device"):
        CudaGraphStep(build_model(ModelConfig(preset="nmnist")).eval(), 1)


@pytest.mark.gpu
@needs_cuda
def test_graph_refuses_a_window_model():
    from live_snn.model.cuda_graph import CudaGraphStep

    with pytest.raises(RuntimeError, match="streaming model"):
        CudaGraphStep(build_model(ModelConfig(preset="nmnist", attention="window")).cuda(), 1)


def _masked_reference(model, x, masks):
    """Each row stepped alone (batch 1) on the frames where its mask is set."""
    rows = x.shape[1]
    states = [model.init_state(1) for _ in range(rows)]
    scores = torch.zeros(len(x), rows, model.num_classes)
    for t, (frame, mask) in enumerate(zip(x, masks, strict=True)):
        for b in range(rows):
            if mask[b]:
                scores[t, b], states[b], _ = model.step(frame[b:b + 1], states[b])
    return scores, states


def test_masked_step_steps_only_the_masked_rows(active_model, spike_input):
    from live_snn.model.cuda_graph import masked_step

    model = active_model(ModelConfig(preset="nmnist"), batch=3)
    x = spike_input(8, 3, 2, 34, 34)
    g = torch.Generator().manual_seed(3)
    masks = torch.rand(8, 3, generator=g) < 0.6
    masks[0] = torch.tensor([True, False, True])  # row 1 starts late
    with torch.inference_mode():
        expected, states = _masked_reference(model, x, masks)
        state = model.init_state(3)
        for t, (frame, mask) in enumerate(zip(x, masks, strict=True)):
            scores, state, _ = masked_step(model, frame, state, mask)
            torch.testing.assert_close(scores[mask], expected[t][mask], rtol=0, atol=1e-5)
    assert expected.abs().sum() > 0
    for b in range(3):
        for name, tensors in state.layers.items():
            for key, t in tensors.items():
                torch.testing.assert_close(t[b:b + 1], states[b].layers[name][key],
                                           rtol=0, atol=1e-5)


@pytest.mark.gpu
@needs_cuda
def test_masked_graph_steps_only_the_masked_rows(active_model, spike_input):
    from live_snn.model.cuda_graph import MaskedCudaGraphStep

    model = active_model(ModelConfig(preset="lite"), batch=4).cuda()
    x = spike_input(10, 4, 2, 64, 64).cuda()
    g = torch.Generator().manual_seed(5)
    masks = torch.rand(10, 4, generator=g) < 0.6
    with torch.inference_mode():
        expected, _ = _masked_reference(model, x, masks)  # eager, batch 1, on the GPU
        graphed = MaskedCudaGraphStep(model, batch_size=4)
        for t, (frame, mask) in enumerate(zip(x, masks, strict=True)):
            scores, _ = graphed.step(frame, mask.cuda())
            torch.testing.assert_close(scores.cpu()[mask], expected[t][mask], rtol=0, atol=1e-5)
        graphed.reset_rows([2])
        assert graphed.state.layers["lif_out"]["v"][2].abs().sum() == 0
    assert expected.abs().sum() > 0
