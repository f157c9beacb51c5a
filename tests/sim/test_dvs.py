"""The emulated DVS pixel array: thresholds, interpolated timestamps, refractory period,
mismatch and noise."""

from __future__ import annotations

import numpy as np
import pytest

from live_snn.sim.config import SimConfig
from live_snn.sim.dvs import DvsPixelArray, log_intensity


def _sensor(**overrides) -> DvsPixelArray:
    settings = dict(resolution=(32, 32), threshold=0.2, mismatch_sigma=0.0, refractory_us=0,
                    noise_hz=0.0, hot_pixels=0)
    settings.update(overrides)
    config = SimConfig(**settings)
    return DvsPixelArray(config, np.random.default_rng(1), np.random.default_rng(2))


def test_each_threshold_crossed_is_one_event_at_its_interpolated_time():
    sensor = _sensor()
    base = np.zeros((32, 32), np.float32)
    sensor.start(base)
    brighter = base.copy()
    brighter[3, 5] = 0.7  # 3.5 thresholds up, linearly over [1000, 2000) µs
    brighter[10, 20] = -0.45  # 2.25 thresholds down
    events = sensor.step(brighter, 1_000, 2_000)
    on = events[events["p"] == 1]
    off = events[events["p"] == 0]
    assert len(on) == 3 and len(off) == 2
    assert np.all((on["x"] == 5) & (on["y"] == 3)) and np.all((off["x"] == 20) & (off["y"] == 10))
    # Crossings at 0.2, 0.4, 0.6 of a 0.7 rise -> 2/7, 4/7, 6/7 of the interval.
    np.testing.assert_array_equal(on["t"], 1_000 + np.floor(np.array([2, 4, 6]) / 7 * 1_000))
    np.testing.assert_array_equal(off["t"], 1_000 + np.floor(np.array([0.2, 0.4]) / 0.45 * 1_000))
    assert np.all(np.diff(events["t"]) >= 0)
    # The reference moved by the thresholds crossed: going back down to 0 gives 3 OFF events.
    back = sensor.step(base, 2_000, 3_000)
    at_pixel = back[(back["x"] == 5) & (back["y"] == 3)]
    assert len(at_pixel) == 3 and np.all(at_pixel["p"] == 0)


def test_no_change_no_events():
    sensor = _sensor()
    image = log_intensity(np.full((32, 32), 100.0, np.float32))
    sensor.start(image)
    assert len(sensor.step(image, 0, 1_000)) == 0


def test_refractory_period_thins_a_pixels_events():
    sensor = _sensor(refractory_us=300)
    base = np.zeros((32, 32), np.float32)
    sensor.start(base)
    ramp = base.copy()
    ramp[0, 0] = 2.0  # 10 crossings, 100 µs apart
    events = sensor.step(ramp, 0, 1_000)
    assert 2 <= len(events) < 10
    assert np.all(np.diff(events["t"]) >= 300 - 1)  # times are floored to whole µs


def test_refractory_period_carries_over_sub_frames():
    sensor = _sensor(threshold=0.25, refractory_us=300)
    image = np.zeros((32, 32), np.float32)
    sensor.start(image)
    image[0, 0] = 0.25
    first = sensor.step(image, 0, 1_000)
    assert first["t"].tolist() == [999]
    image[0, 0] = 0.75  # crossings at 1050 and 1099 µs: both within 300 µs of 999
    assert len(sensor.step(image, 1_000, 1_100)) == 0
    image[0, 0] = 1.0  # the reference moved on regardless: one crossing, at 1399 µs
    assert sensor.step(image, 1_100, 1_400)["t"].tolist() == [1_399]


def test_thresholds_vary_from_pixel_to_pixel_as_configured():
    sensor = _sensor(resolution=(128, 128), threshold=0.15, mismatch_sigma=0.025)
    for thresholds in (sensor.threshold_on, sensor.threshold_off):
        assert thresholds.mean() == pytest.approx(0.15, abs=0.002)
        assert thresholds.std() == pytest.approx(0.025, abs=0.002)
    assert not np.array_equal(sensor.threshold_on, sensor.threshold_off)


def test_background_noise_and_hot_pixels_fire_at_their_rates():
    sensor = _sensor(resolution=(64, 64), noise_hz=0.5, hot_pixels=3, hot_pixel_hz=200.0)
    noise = sensor.noise(0, 4_000_000)
    assert np.all(np.diff(noise["t"]) >= 0) and noise["t"].min() >= 0 and noise["t"].max() < 4_000_000
    pixel = noise["y"].astype(int) * 64 + noise["x"]
    hot = np.isin(pixel, sensor.hot_pixels)
    expected_background = 0.5 * 64 * 64 * 4
    assert abs((~hot).sum() - expected_background) < 5 * np.sqrt(expected_background)
    expected_hot = sensor.hot_rates_hz.sum() * 4
    assert abs(hot.sum() - expected_hot) < 5 * np.sqrt(expected_hot)
    counts = np.bincount(pixel, minlength=64 * 64)
    assert set(np.argsort(counts)[-3:]) == set(sensor.hot_pixels.tolist())
    assert 0.4 < noise["p"].mean() < 0.6


def test_step_before_start_is_an_error():
    with pytest.raises(RuntimeError, match="before start"):
        _sensor().step(np.zeros((32, 32), np.float32), 0, 1_000)
