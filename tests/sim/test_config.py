"""SimConfig: DVS128 defaults and clear errors for impossible settings."""

from __future__ import annotations

import pytest

from live_snn.events import Resolution
from live_snn.sim import SimConfig


def test_defaults_are_a_dvs128():
    config = SimConfig()
    assert config.resolution == Resolution(128, 128)
    assert 0.1 <= config.threshold <= 0.3 and config.mismatch_sigma > 0
    assert SimConfig(resolution=(346, 260)).resolution == Resolution(346, 260)


def test_every_problem_is_named():
    with pytest.raises(ValueError) as info:
        SimConfig(seed=-1, threshold=0.0, refractory_us=-5, gesture_s=(3.0, 1.0), resolution=(20, 20))
    message = str(info.value)
    for part in ("seed must be >= 0, got -1", "threshold must be > 0, got 0.0",
                 "refractory_us must be >= 0, got -5", "gesture_s must be (low, high)",
                 "at least 32x32"):
        assert part in message
