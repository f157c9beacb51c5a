"""Fixtures for the engine tests: small random-weights checkpoints (legitimate here: the
pipeline must reproduce the model's own outputs exactly, whatever the weights) and real
recordings read whole for the offline reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from live_snn.binning import BinningConfig
from live_snn.events import EventBatch
from live_snn.model import ModelConfig, build_model, save_checkpoint

DT_US = 10_000
CLASS_NAMES = tuple(f"class {k}" for k in range(11))
# Random weights this much larger than PyTorch's default init make spikes reach the readout,
# so that scores differ from bin to bin and comparisons cannot pass on all-zero outputs.
WEIGHT_GAIN = 10.0


def tiny_checkpoint(path: Path, *, attention: str = "causal", T: int = 8, seed: int = 0,
                    sensor=(128, 128)) -> Path:
    torch.manual_seed(seed)
    config = ModelConfig(preset="lite", input_size=(32, 32), channels=16, hidden=64,
                         num_blocks=3, attention=attention, T=T)
    model = build_model(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() > 1:
                parameter.mul_(WEIGHT_GAIN)
    binning = BinningConfig(dt_us=DT_US, sensor=sensor, model=(32, 32))
    return save_checkpoint(path, model, binning=binning, class_names=CLASS_NAMES)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """These tests run a tiny model one bin at a time: a second intra-op thread buys nothing
    and, on a busy 2-core machine, makes every step wait for a core. Restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def causal_ckpt(tmp_path_factory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "causal.safetensors")


@pytest.fixture(scope="session")
def window_ckpt(tmp_path_factory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "window.safetensors",
                           attention="window", T=4)


@pytest.fixture(scope="session")
def gesture_path(gesture_sample: Path) -> Path:
    return gesture_sample


def read_all_events(path: Path) -> EventBatch:
    from live_snn.sources.aedat4 import Aedat4Source

    with Aedat4Source(path) as source:
        return EventBatch.concatenate(list(source))


@pytest.fixture(scope="session")
def gesture_events(gesture_path: Path) -> EventBatch:
    return read_all_events(gesture_path)


def _offline_scores(ckpt_path: Path, frames: np.ndarray) -> np.ndarray:
    from live_snn.model import load_checkpoint

    ckpt = load_checkpoint(ckpt_path)
    with torch.inference_mode():
        return ckpt.model(torch.from_numpy(frames)[:, None])[:, 0].numpy()


@pytest.fixture(scope="session")
def offline_scores():
    """``offline_scores(ckpt_path, frames [N, 2, H, W]) -> [N, K]``: the model called
    directly on offline-binned frames, from a zero state."""
    return _offline_scores


@pytest.fixture(scope="session")
def make_checkpoint():
    return tiny_checkpoint

