"""Helpers for the GUI tests: a small random-weights checkpoint for the end-to-end ones and
a themed QApplication."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def collect_qt_garbage_on_this_thread():
    """Collect each GUI test's garbage here, on the GUI thread. Left to the automatic
    collector, cycles holding Qt objects were freed later by whichever thread allocated
    next, such as a later test's engine thread, and Qt crashed there (a segfault in a torch
    step of tests/ui/test_prophesee_hd.py in two of four whole-suite runs)."""
    yield
    gc.collect()


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
