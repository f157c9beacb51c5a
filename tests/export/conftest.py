"""Fixtures for the export tests: a small random-weights checkpoint (legitimate here: the
export must reproduce the engine's own records, whatever the weights) and one real recording."""

from __future__ import annotations

from pathlib import Path

import pytest

DT_US = 20_000   # 73 bins for a 1.45 s DVS128 Gesture sample: quick on a shared CPU
T_STEPS = 8
CLASS_NAMES = tuple(f"gesture {k}" for k in range(11))


@pytest.fixture(scope="session")
def export_ckpt(tmp_path_factory, make_checkpoint) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    return make_checkpoint(path, T=T_STEPS, seed=7, dt_us=DT_US, class_names=CLASS_NAMES)


@pytest.fixture(scope="session")
def gesture_recording(gesture_sample: Path) -> Path:
    return gesture_sample
