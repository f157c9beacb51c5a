"""SimConfig: DVS128 defaults and clear errors for impossible settings."""

from __future__ import annotations

import pytest

from live_snn.events import Resolution
from live_snn.sim import SimConfig


def test_defaults_are_a_dvs128_with_the_camera_and_room_drawn_per_session():
    config = SimConfig()
    assert config.resolution == Resolution(128, 128)
    assert config.threshold is None and config.lighting is None and config.mismatch_sigma > 0
    assert SimConfig(resolution=(346, 260)).resolution == Resolution(346, 260)


def test_every_problem_is_named():
    with pytest.raises(ValueError) as info:
        SimConfig(seed=-1, threshold=0.0, refractory_us=-5, gesture_s=(3.0, 1.0), resolution=(20, 20),
                  lighting="candle", flicker_depth=1.5, light_level=100.0, speed_scale=10.0,
                  size_scale=0.1)
    message = str(info.value)
    for part in ("seed must be >= 0, got -1", "threshold must be > 0, got 0.0",
                 "refractory_us must be >= 0, got -5", "gesture_s must be (low, high)",
                 "at least 32x32", "lighting must be one of fluorescent, led, natural",
                 "flicker_depth must be in [0, 1)", "light_level must be in [0.02, 20]",
                 "speed_scale must be in [0.25, 4]", "size_scale must be in [0.5, 1.6]"):
        assert part in message
    with pytest.raises(ValueError, match="at most 4096x4096"):
        SimConfig(resolution=(100_000, 100_000))
