"""The streaming TCJA spiking network (see docs/architecture.md, ``live_snn.model``).

Modules in the order data meets them: ``neuron`` (LIF), ``encoder`` (GAC), ``attention``
(TCJA window / causal, TIM), ``config`` and ``network`` (blocks, the network), plus ``state``
(state and taps containers), ``checkpoint`` (safetensors + metadata) and ``cuda_graph`` (the
step replayed as a CUDA graph).
"""

from live_snn.model.checkpoint import (
    CheckpointExpectation,
    LoadedCheckpoint,
    load_checkpoint,
    save_checkpoint,
)
from live_snn.model.config import PRESETS, ModelConfig
from live_snn.model.network import TCJASNN, build_model, count_parameters
from live_snn.model.state import AttentionTap, ModelState, StepTaps, clone_state, reset_rows

__all__ = [
    "PRESETS",
    "AttentionTap",
    "CheckpointExpectation",
    "LoadedCheckpoint",
    "ModelConfig",
    "ModelState",
    "StepTaps",
    "TCJASNN",
    "build_model",
    "clone_state",
    "count_parameters",
    "load_checkpoint",
    "reset_rows",
    "save_checkpoint",
]
