"""Fixtures for the engine tests: a window-mode tiny checkpoint (the causal one and the maker
are in tests/conftest.py) and real recordings read whole for the offline reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from live_snn.events import EventBatch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """These tests run a tiny model one bin at a time: a second intra-op thread buys nothing
    and, on a busy 2-core machine, makes every step wait for a core. Restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def window_ckpt(tmp_path_factory, make_checkpoint) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "window.safetensors",
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

