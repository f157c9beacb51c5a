"""``model.step`` captured once as a CUDA graph and replayed per bin.

On a GPU one step of the network is a few dozen small kernels; launching them from Python
costs more than running them. A CUDA graph records the launches once (for a fixed batch
size) and replays them with one call. The input, the state and the outputs live in fixed
buffers: :meth:`CudaGraphStep.step` copies a frame in, replays, and returns views of the
output buffers, which the next replay overwrites (clone what you keep).
"""

from __future__ import annotations

import torch
from torch import Tensor

from live_snn.model.network import TCJASNN
from live_snn.model.state import ModelState, StepTaps


class CudaGraphStep:
    def __init__(self, model: TCJASNN, batch_size: int, *, warmup_steps: int = 3):
        device = next(model.parameters()).device
        if device.type != "cuda":
            raise RuntimeError(f"CUDA graphs need the model on a CUDA device, it is on {device}")
        if model.training or not model.streams_by_step:
            raise RuntimeError("CudaGraphStep needs a streaming model (attention != 'window') "
                               "in eval mode")
        cfg = model.config
        self.model = model
        self.batch_size = batch_size
        self.x = torch.zeros(batch_size, cfg.in_channels, *cfg.input_size, device=device)
        self.state = model.init_state(batch_size, device)
        # Kernels are selected and memory is allocated on a side stream first, as capture
        # requires; the warm-up steps do not touch the state buffers.
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side), torch.inference_mode():
            for _ in range(warmup_steps):
                model.step(self.x, self.state)
        torch.cuda.current_stream(device).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.inference_mode(), torch.cuda.graph(self.graph):
            scores, new_state, taps = model.step(self.x, self.state)
            self._write_back(new_state)
        self.scores: Tensor = scores
        self.taps: StepTaps = taps

    def _write_back(self, state: ModelState) -> None:
        for name, tensors in self.state.layers.items():
            for key, buffer in tensors.items():
                buffer.copy_(state.layers[name][key])

    def step(self, x_t: Tensor) -> tuple[Tensor, StepTaps]:
        """Advance every stream by one bin; the state stays inside. Returns views of the output
        buffers (scores [B, K], taps), valid until the next call."""
        self.x.copy_(x_t, non_blocking=True)
        self.graph.replay()
        return self.scores, self.taps

    def snapshot(self) -> ModelState:
        return self.state.clone()

    def load_state(self, state: ModelState) -> None:
        """Continue from ``state`` (e.g. a seek snapshot), copied into the graph's buffers."""
        if state.batch_size != self.batch_size:
            raise ValueError(f"state holds {state.batch_size} streams, the graph was captured "
                             f"for {self.batch_size}")
        with torch.inference_mode():
            self._write_back(state)

    def reset_rows(self, rows) -> None:
        self.load_state(self.state.reset_rows(rows))
