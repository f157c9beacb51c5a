"""Fixtures for the export tests: a small random-weights checkpoint (legitimate here: the
export must reproduce the engine's own records, whatever the weights) and one real recording."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from live_snn.binning import BinningConfig
from live_snn.model import ModelConfig, build_model, save_checkpoint

DT_US = 20_000   # 73 bins for a 1.45 s DVS128 Gesture sample: quick on a shared CPU
T_STEPS = 8
CLASS_NAMES = tuple(f"gesture {k}" for k in range(11))
# Larger-than-default random weights make spikes reach the readout, so probabilities change
# from bin to bin and a comparison cannot pass on constant outputs.
WEIGHT_GAIN = 10.0


@pytest.fixture(scope="session")
def export_ckpt(tmp_path_factory) -> Path:
    torch.manual_seed(7)
    config = ModelConfig(preset="lite", input_size=(32, 32), channels=16, hidden=64,
                         num_blocks=3, attention="causal", T=T_STEPS)
    model = build_model(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() > 1:
                parameter.mul_(WEIGHT_GAIN)
    binning = BinningConfig(dt_us=DT_US, sensor=(128, 128), model=(32, 32))
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    return save_checkpoint(path, model, binning=binning, class_names=CLASS_NAMES)


@pytest.fixture(scope="session")
def gesture_recording(gesture_sample: Path) -> Path:
    return gesture_sample
