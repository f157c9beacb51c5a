"""Synthetic Prediction records for the history and view-state tests: every value is a
function of the bin index, so a test can tell which bin it reads."""

from __future__ import annotations

import numpy as np
import pytest

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.engine.records import Prediction

LAYERS = {"blocks.3.tcja": 6, "blocks.4.tcja": 5}
SPIKING = ("blocks.0.lif", "blocks.1.lif", "lif_out")
SENSOR = (40, 30)   # width, height
MODEL = (16, 16)


def make_prediction(bin_index: int, *, num_classes: int = 11, seed: int | None = None,
                    dt_us: int = 10_000, sensor_frame: bool = True) -> Prediction:
    """A plausible record whose every value is a function of ``bin_index`` (so a test can
    tell which bin a panel shows)."""
    rng = np.random.default_rng(bin_index if seed is None else seed)
    probs = rng.dirichlet(np.ones(num_classes)).astype(np.float32)
    smoothed = rng.dirichlet(np.ones(num_classes)).astype(np.float32)
    label = int(smoothed.argmax())
    attention = {
        name: {
            "gate": rng.random(c).astype(np.float32),
            "branch_a": rng.normal(size=c).astype(np.float32),
            "branch_b": rng.normal(size=c).astype(np.float32),
        }
        for name, c in LAYERS.items()
    }
    w, h = SENSOR
    return Prediction(
        bin=bin_index,
        t_start_us=bin_index * dt_us,
        t_end_us=(bin_index + 1) * dt_us,
        events=bin_index * 3,
        scores=probs,
        probs=probs,
        smoothed=smoothed,
        label=label,
        label_name=DVS_GESTURE_CLASSES[label] if num_classes == 11 else str(label),
        confidence=float(smoothed[label]),
        uncertain=bool(bin_index % 5 == 0),
        onset=False,
        attention=attention,
        spike_rates={name: float(rng.random()) for name in SPIKING},
        frame=rng.poisson(0.3, (2, *MODEL)).astype(np.float32),
        sensor_frame=rng.poisson(0.3, (2, h, w)).astype(np.uint16) if sensor_frame else None,
        ground_truth=bin_index % num_classes,
        latency_ms={"step": 1.0},
    )


@pytest.fixture(scope="session")
def predictions():
    """``predictions(first, last, **kw)`` -> the records of bins first..last (inclusive)."""

    def make(first: int, last: int, **kwargs) -> list[Prediction]:
        return [make_prediction(b, **kwargs) for b in range(first, last + 1)]

    return make
