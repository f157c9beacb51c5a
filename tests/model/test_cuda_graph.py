"""The CUDA-graph step replays exactly what model.step computes (needs a CUDA device)."""

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
