"""Tiny labelled sessions and a tiny model for fast training tests: class k lights up
quadrant k of an 8x8 frame, so a 2-block network learns it in a few dozen steps."""

from __future__ import annotations

import numpy as np
import torch

from live_snn.binning import BinningConfig
from live_snn.events import Resolution
from live_snn.model import ModelConfig, build_model
from live_snn.train.sessions import LabelledSession, concat_clips

NUM_CLASSES = 3
SIZE = 8
DT_US = 10_000
CLASS_NAMES = ("top-left", "top-right", "bottom-left")


def quadrant_clip(label: int, n: int, rng: np.random.Generator) -> torch.Tensor:
    frames = np.zeros((n, 2, SIZE, SIZE), np.uint8)
    y0, x0 = divmod(label, 2)
    h = SIZE // 2
    block = rng.poisson(2.0, size=(n, 2, h, h)).astype(np.uint8)
    frames[:, :, y0 * h:(y0 + 1) * h, x0 * h:(x0 + 1) * h] = block
    return torch.from_numpy(frames)


def quadrant_sessions(n_sessions: int, seed: int, clips_per_session: int = 6,
                      clip_len: int = 8) -> list[LabelledSession]:
    rng = np.random.default_rng(seed)
    sessions = []
    for i in range(n_sessions):
        labels = rng.integers(0, NUM_CLASSES, size=clips_per_session).tolist()
        clips = [quadrant_clip(label, clip_len, rng) for label in labels]
        sessions.append(concat_clips(f"quad-{seed}-{i}", clips, labels, DT_US, gap_bins=2))
    return sessions


def tiny_config(attention: str = "causal") -> ModelConfig:
    return ModelConfig(preset="nmnist", input_size=(SIZE, SIZE), channels=8, num_blocks=2,
                       hidden=32, num_classes=NUM_CLASSES, T=6, attention=attention,
                       attention_blocks=(1,), dropout=0.0)


def tiny_model(attention: str = "causal", seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(tiny_config(attention))


def tiny_binning() -> BinningConfig:
    return BinningConfig(dt_us=DT_US, sensor=Resolution(SIZE, SIZE), model=Resolution(SIZE, SIZE))
