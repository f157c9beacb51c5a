"""Helpers for the GUI tests: a small random-weights checkpoint for the end-to-end ones and
a themed QApplication."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def themed_app(qapp):
    from live_snn_ui.theme import apply_theme

    apply_theme(qapp)
    return qapp


@pytest.fixture(scope="session")
def gui_checkpoint(tmp_path_factory) -> Path:
    """A small random-weights model (32x32 input, 16 channels, 3 blocks, T = 8) for 128x128
    recordings in 20 ms bins, scaled so that every layer fires: fast, and every panel has
    something to show. The bundled trained model is not needed to test the window."""
    from live_snn.bench.active_model import write_active_random_checkpoint

    path = tmp_path_factory.mktemp("gui-model") / "tiny_active.safetensors"
    return write_active_random_checkpoint(path, input_size=(32, 32), channels=16, hidden=64,
                                          num_blocks=3, T=8)
