"""``model.step`` captured once as a CUDA graph and replayed per bin (one stream,
:class:`CudaGraphStep`; several streams with a mask of those that step,
:class:`MaskedCudaGraphStep`).

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
        _copy_state(self.state, state)

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


def masked_step(model: TCJASNN, x: Tensor, state: ModelState, mask: Tensor
                ) -> tuple[Tensor, ModelState, StepTaps]:
    """``model.step`` on every row of a fixed batch, keeping the old state of the rows where
    ``mask`` (bool ``[B]``) is False: those streams had no new bin. Their scores and taps are
    computed from whatever their input rows hold and mean nothing."""
    scores, stepped, taps = model.step(x, state)
    return scores, stepped.where_rows(mask, state), taps


class MaskedCudaGraphStep:
    """The streams of a multi-stream engine on a GPU: :func:`masked_step` over a fixed batch
    of ``batch_size`` rows, captured once as a CUDA graph. Each replay steps the rows whose
    mask is set and leaves the others' state as it was, so one graph serves any subset of
    streams (a GPU steps a whole batch about as fast as one row)."""

    def __init__(self, model: TCJASNN, batch_size: int, *, warmup_steps: int = 3):
        device = next(model.parameters()).device
        if device.type != "cuda":
            raise RuntimeError(f"CUDA graphs need the model on a CUDA device, it is on {device}")
        if model.training or not model.streams_by_step:
            raise RuntimeError("MaskedCudaGraphStep needs a streaming model (attention != "
                               "'window') in eval mode")
        cfg = model.config
        self.batch_size = batch_size
        self.x = torch.zeros(batch_size, cfg.in_channels, *cfg.input_size, device=device)
        self.mask = torch.zeros(batch_size, dtype=torch.bool, device=device)
        self.state = model.init_state(batch_size, device)
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side), torch.inference_mode():
            for _ in range(warmup_steps):  # the mask is all False: the state stays zero
                masked_step(model, self.x, self.state, self.mask)
        torch.cuda.current_stream(device).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.inference_mode(), torch.cuda.graph(self.graph):
            scores, new_state, taps = masked_step(model, self.x, self.state, self.mask)
            _copy_state(self.state, new_state)
        self.scores: Tensor = scores
        self.taps: StepTaps = taps

    def step(self, x: Tensor, mask: Tensor) -> tuple[Tensor, StepTaps]:
        """Step the rows of ``mask`` on the rows of ``x`` (both full-batch, host or device);
        returns views of the output buffers (all rows), valid until the next call."""
        self.x.copy_(x, non_blocking=True)
        self.mask.copy_(mask, non_blocking=True)
        self.graph.replay()
        return self.scores, self.taps

    def reset_rows(self, rows) -> None:
        """The streams ``rows`` back at their initial (zero) state."""
        with torch.inference_mode():
            _copy_state(self.state, self.state.reset_rows(rows))


def _copy_state(buffers: ModelState, state: ModelState) -> None:
    for name, tensors in buffers.layers.items():
        for key, buffer in tensors.items():
            buffer.copy_(state.layers[name][key])
