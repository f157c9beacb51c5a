"""The model side of the engine: the ring buffer of frames on the model's device, the model
state, and one call per bin that returns the step's scores and taps as NumPy.

Streaming models (``streams_by_step``) advance with ``model.step`` on the newest frame.
Window models re-run the last T frames from a zero state for every bin and read the newest
step; before T frames have arrived the window is padded with empty frames, as evaluation
does, so the first bins see exactly what a T-frame window starting in silence would."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from live_snn.engine import host_memory
from live_snn.engine.ring_buffer import RingBuffer
from live_snn.errors import LiveSnnError
from live_snn.model import TCJASNN, LoadedCheckpoint, ModelState
from live_snn.model.inference import bfloat16_is_native


def resolve_device(device: str) -> torch.device:
    """"auto" -> CUDA when available, else CPU; "cuda" without CUDA is a clear error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise LiveSnnError(
            f"device {device!r} asked for but CUDA is not available (torch {torch.__version__}); "
            "use --device cpu or auto"
        )
    if device != "cpu" and not device.startswith("cuda"):
        raise LiveSnnError(f"unknown device {device!r}: expected auto, cpu or cuda[:N]")
    return torch.device(device)


def check_conv_dtype(conv_dtype: str, device: torch.device) -> None:
    """bfloat16 convolutions only where ``device`` multiplies bfloat16 natively: emulated,
    they are slower than float32, the opposite of why anyone asks for them."""
    if conv_dtype != "bfloat16" or bfloat16_is_native(device):
        return
    if device.type == "cpu":
        where = "this CPU has no bfloat16 instructions (AVX512-BF16 or AMX)"
    else:
        where = f"{device} does not compute bfloat16 natively (compute capability below 8.0)"
    raise LiveSnnError(f"bfloat16 convolutions asked for, but {where}: they would be "
                       "emulated and slower than float32; use --conv-dtype float32")


def inference_model(checkpoint: LoadedCheckpoint, device: torch.device,
                    conv_dtype: str = "float32") -> TCJASNN:
    """The network the engines step: the checkpoint's inference copy on ``device``
    (TCJASNN.fused_for_inference; the checkpoint's own model is left as it is), its block
    convolutions in ``conv_dtype`` (:func:`check_conv_dtype`)."""
    check_conv_dtype(conv_dtype, device)
    return checkpoint.model.to(device).eval().fused_for_inference(conv_dtype=conv_dtype)


@dataclass
class StepResult:
    scores: np.ndarray                                   # float32 [K]
    attention: dict[str, dict[str, np.ndarray]]          # layer -> part -> [C]
    spike_rates: dict[str, float]
    step_ms: float                                       # model call incl. device sync + copy


@dataclass(frozen=True)
class RunnerSnapshot:
    state: ModelState | None          # streaming models
    window: torch.Tensor | None       # window models: the last T frames
    nbytes: int


class ModelRunner:
    """Owns the model, its state and the ring buffer; used only from the engine thread."""

    def __init__(self, checkpoint: LoadedCheckpoint, device: torch.device, *,
                 cuda_graph: bool = True, keep_freed_memory: bool = False,
                 conv_dtype: str = "float32"):
        self.checkpoint = checkpoint
        self.device = device
        self.model = inference_model(checkpoint, device, conv_dtype)
        if keep_freed_memory and device.type == "cpu":
            host_memory.keep_freed_memory()
        config = checkpoint.config
        self.window_steps = int(config.T)
        self.streams = bool(self.model.streams_by_step)
        h, w = config.input_size
        self.frame_shape = (config.in_channels, h, w)
        self.ring = RingBuffer(max(self.window_steps, 2), self.frame_shape, device=device)
        self.state: ModelState | None = None
        # Read-only frames (the binner shares one zero array between empty bins) are staged
        # through this host buffer: torch cannot wrap a read-only array.
        self._staging = torch.empty(self.frame_shape, dtype=torch.float32)
        self._window_out = None if self.streams else torch.empty(
            (self.window_steps, *self.frame_shape), dtype=torch.float32, device=device)
        # On a GPU one step is dozens of small kernels whose Python launches cost more than
        # the kernels: replay them as one captured CUDA graph (state kept inside the graph).
        self._graph = None
        if cuda_graph and device.type == "cuda" and self.streams:
            from live_snn.model.cuda_graph import CudaGraphStep

            self._graph = CudaGraphStep(self.model, batch_size=1)
        self.reset()

    @property
    def num_classes(self) -> int:
        return int(self.model.num_classes)

    def reset(self) -> None:
        """Back to the initial state: zero membranes and histories, an empty window."""
        self.ring.clear()
        if self._graph is not None:
            self._graph.load_state(self.model.init_state(batch_size=1, device=self.device))
        elif self.streams:
            self.state = self.model.init_state(batch_size=1, device=self.device)
        else:
            zeros = np.zeros(self.frame_shape, dtype=np.float32)
            for _ in range(self.window_steps - 1):
                self.ring.push(zeros)

    @torch.inference_mode()
    def step(self, counts: np.ndarray, *, taps: bool = True) -> StepResult:
        start = time.perf_counter()
        if isinstance(counts, np.ndarray) and not counts.flags.writeable:
            self._staging.numpy()[...] = counts
            counts = self._staging
        self.ring.push(counts)
        if self._graph is not None:
            scores, step_taps = self._graph.step(self.ring.latest()[None])
        elif self.streams:
            scores, self.state, step_taps = self.model.step(self.ring.latest()[None], self.state)
        else:
            window = self.ring.window(self.window_steps, out=self._window_out)[:, None]
            scores_seq, taps_seq = self.model(window, return_taps=True)
            scores, step_taps = scores_seq[-1], taps_seq.at(-1)
        attention: dict[str, dict[str, np.ndarray]] = {}
        spike_rates: dict[str, float] = {}
        if taps:
            # One device->host copy for the taps; the scores ride in their own small copy.
            attention, spike_rates = step_taps.to_numpy(0)
        scores_np = scores[0].detach().float().cpu().numpy()
        return StepResult(scores_np, attention, spike_rates, (time.perf_counter() - start) * 1e3)

    def snapshot(self) -> RunnerSnapshot:
        if self._graph is not None:
            state = self._graph.snapshot()
            return RunnerSnapshot(state, None, state.nbytes)
        if self.streams:
            assert self.state is not None
            # step() never modifies a state in place, so the reference is a valid snapshot.
            return RunnerSnapshot(self.state, None, self.state.nbytes)
        window = self.ring.window(self.window_steps - 1) if self.window_steps > 1 else None
        nbytes = 0 if window is None else window.numel() * window.element_size()
        return RunnerSnapshot(None, window, nbytes)

    def restore(self, snapshot: RunnerSnapshot) -> None:
        self.ring.clear()
        if self._graph is not None:
            self._graph.load_state(snapshot.state)
        elif self.streams:
            self.state = snapshot.state
        elif snapshot.window is not None:
            for frame in snapshot.window:
                self.ring.push(frame)
