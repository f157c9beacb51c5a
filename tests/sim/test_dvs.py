"""The emulated DVS pixel array: thresholds and interpolated timestamps, the refractory
period and its bursts, repeats and rebounds, the photoreceptor's lag in low light,
flicker, noise at its configured rate, mismatch."""

from __future__ import annotations

import numpy as np
import pytest

from live_snn.sim import dvs
from live_snn.sim.config import SimConfig
from live_snn.sim.dvs import DvsPixelArray, SensorSettings
from live_snn.sim.lighting import Lighting

# A photoreceptor fast enough to follow any sub-frame, no overshoot, no rebounds.
IDEAL = SensorSettings(threshold=0.2, refractory_us=0, noise_hz=0.0, leak_fraction=0.2, hot_pixels=0,
                       bandwidth_hz=1e9, overshoot=0.0, settle_ms=1.0, rebound=0.0, rebound_ms=1.0)


@pytest.fixture
def no_repeats(monkeypatch):
    """Firings never repeat: exact event counts."""
    monkeypatch.setattr(dvs, "EXTRA_EVENTS_P", np.array([1.0]))


def _sensor(settings: SensorSettings = IDEAL, size: int = 32, mismatch: float = 0.0,
            **config) -> DvsPixelArray:
    sim = SimConfig(resolution=(size, size), mismatch_sigma=mismatch, **config)
    return DvsPixelArray(sim, settings, np.random.default_rng(1), np.random.default_rng(2),
                         rng_pixel=np.random.default_rng(3))


def grey(log_level: float, size: int = 32) -> np.ndarray:
    """An image whose every pixel has this log intensity."""
    return np.full((size, size), np.exp(log_level) - dvs._DARK_DN, np.float32)


def with_pixel(image: np.ndarray, y: int, x: int, log_level: float) -> np.ndarray:
    image = image.copy()
    image[y, x] = np.exp(log_level) - dvs._DARK_DN
    return image


def test_each_threshold_crossed_is_one_event_at_its_interpolated_time(no_repeats):
    sensor = _sensor()
    base = grey(3.0)
    sensor.start(base)
    changed = with_pixel(with_pixel(base, 3, 5, 3.7), 10, 20, 2.55)  # +3.5 and -2.25 thresholds
    events = sensor.step(changed, 1_000, 2_000)
    on, off = events[events["p"] == 1], events[events["p"] == 0]
    assert len(on) == 3 and len(off) == 2
    assert np.all((on["x"] == 5) & (on["y"] == 3)) and np.all((off["x"] == 20) & (off["y"] == 10))
    # Crossings at 0.2, 0.4, 0.6 of a 0.7 rise -> 2/7, 4/7, 6/7 of the interval (±1 µs of rounding).
    np.testing.assert_allclose(on["t"], 1_000 + np.array([2, 4, 6]) / 7 * 1_000, atol=1)
    np.testing.assert_allclose(off["t"], 1_000 + np.array([0.2, 0.4]) / 0.45 * 1_000, atol=1)
    assert np.all(np.diff(events["t"]) >= 0)
    # The reference moved by the thresholds crossed (to 3.6): going back a little further than
    # 3 thresholds gives 3 OFF events there.
    back = sensor.step(with_pixel(base, 3, 5, 2.95), 2_000, 3_000)
    at_pixel = back[(back["x"] == 5) & (back["y"] == 3)]
    assert len(at_pixel) == 3 and np.all(at_pixel["p"] == 0)


def test_no_change_no_events():
    sensor = _sensor()
    sensor.start(grey(4.0))
    assert len(sensor.step(grey(4.0), 0, 1_000)) == 0


def test_refractory_period_holds_crossings_and_fires_them_as_a_burst(no_repeats):
    """Ten crossings 100 µs apart through a 300 µs refractory period: the pixel fires, waits
    300 µs, fires what came meanwhile at once (1 µs apart), waits again..."""
    sensor = _sensor(IDEAL.__class__(**{**IDEAL.__dict__, "refractory_us": 300}))
    base = grey(3.0)
    sensor.start(base)
    events = sensor.step(with_pixel(base, 0, 0, 5.0), 0, 1_000)  # 10 crossings
    t = events["t"]
    assert len(events) == 10 and np.all(events["p"] == 1)  # held, not lost
    gaps = np.diff(t)
    assert set(gaps.tolist()) <= {1} | set(range(300, 1000))  # within a burst, or a whole period
    # Between the end of one burst and the start of the next: at least the refractory period.
    starts = np.flatnonzero(np.r_[True, gaps > 1])
    ends = np.r_[starts[1:] - 1, len(t) - 1]
    assert np.all(t[starts[1:]] - t[ends[:-1]] >= 300)
    assert (gaps == 1).sum() >= 4  # bursts happened


def test_refractory_period_carries_over_sub_frames(no_repeats):
    sensor = _sensor(IDEAL.__class__(**{**IDEAL.__dict__, "threshold": 0.25, "refractory_us": 300}))
    base = grey(3.0)
    sensor.start(base)
    first = sensor.step(with_pixel(base, 0, 0, 3.3), 0, 1_000)  # crossing 3.25 at 5/6 of the way
    assert first["t"].tolist() == [833]
    # Crossings of 3.5 and 3.75 at ~1040 and ~1090 µs, inside the refractory period that
    # began in the previous sub-frame: held, and fired together when it ends at 1133 µs.
    held = sensor.step(with_pixel(base, 0, 0, 3.8), 1_000, 1_100)
    assert held["t"].tolist() == [1_133, 1_134]


def test_a_dim_pixel_lags_behind_a_bright_one(no_repeats):
    """Limited bandwidth: the photoreceptor's cut-off falls with the light it gets, so the
    same relative step fires later on a dark pixel than on a bright one."""
    settings = IDEAL.__class__(**{**IDEAL.__dict__, "bandwidth_hz": 500.0})
    sensor = _sensor(settings)
    start = grey(1.5)
    start[0, 0] = np.exp(5.3) - dvs._DARK_DN  # bright: ~200 grey levels
    sensor.start(start)
    step = start.copy()
    step[:, :] = np.exp(np.log(start + dvs._DARK_DN) + 1.1) - dvs._DARK_DN  # +1.1 in log everywhere
    events = np.concatenate([sensor.step(step, k * 1_000, (k + 1) * 1_000) for k in range(80)])
    bright = events[(events["x"] == 0) & (events["y"] == 0)]
    dark = events[(events["x"] == 5) & (events["y"] == 5)]
    assert len(bright) == len(dark) == 5  # the same change, in the end
    assert bright["t"].max() < 3_000 < dark["t"].max()  # but the dark pixel takes longer


def test_rebounds_follow_a_firing_with_the_other_polarity_and_leave_the_reference(no_repeats):
    settings = IDEAL.__class__(**{**IDEAL.__dict__, "refractory_us": 300, "rebound": 1.0,
                                  "rebound_ms": 0.5})
    sensor = _sensor(settings)
    base = grey(3.0)
    sensor.start(base)
    events = sensor.step(with_pixel(base, 0, 0, 2.5), 0, 1_000)  # 2 OFF crossings
    off, on = events[events["p"] == 0], events[events["p"] == 1]
    assert len(off) == 2 and len(on) == 2  # every firing rebounds
    assert np.all(np.sort(on["t"]) - np.sort(off["t"]) >= 300)
    # The rebounds moved nothing: back up by one threshold is exactly one ON crossing.
    quiet = IDEAL.__class__(**{**settings.__dict__, "rebound": 0.0})
    sensor.settings = quiet
    later = sensor.step(with_pixel(base, 0, 0, 2.85), 10_000, 11_000)  # reference at 2.6
    assert later["p"].tolist() == [1]


def test_nothing_fires_within_the_refractory_period_after_a_rebound(no_repeats):
    """A rebound is an event: the pixel's next firing, of either polarity, waits the
    refractory period after it as after any other (the real recordings' shortest
    opposite-polarity intervals are 290-970 µs)."""
    settings = IDEAL.__class__(**{**IDEAL.__dict__, "refractory_us": 400, "rebound": 1.0,
                                  "rebound_ms": 0.1})
    sensor = _sensor(settings)
    base = grey(3.0)
    sensor.start(base)
    # A long steady rise: a crossing every ~50 µs for 5 ms, far faster than the pixel.
    events = np.concatenate([
        sensor.step(with_pixel(base, 0, 0, 3.0 + 0.2 * k), (k - 1) * 50, k * 50)
        for k in range(1, 101)])
    events = events[np.argsort(events["t"], kind="stable")]
    gaps, switched = np.diff(events["t"]), events["p"][1:] != events["p"][:-1]
    assert (events["p"] == 0).sum() >= 5, "rebounds happened"
    assert np.all(gaps[switched] >= 400), gaps[switched].min()  # after a rebound, or to one
    assert np.all((gaps == 1) | (gaps >= 400))  # else: a held burst, 1 µs apart


def test_firings_repeat_as_often_as_on_a_real_dvs128():
    sensor = _sensor(size=128)
    base = grey(3.0, 128)
    sensor.start(base)
    events = sensor.step(grey(3.2, 128), 0, 1_000)  # one crossing per pixel
    per_pixel = np.bincount(events["y"].astype(int) * 128 + events["x"], minlength=128 * 128)
    repeated = np.mean(per_pixel > 1)
    assert repeated == pytest.approx(1 - dvs.EXTRA_EVENTS_P[0], abs=0.01)


def test_a_still_scene_under_a_fluorescent_tube_fires_at_twice_the_mains_frequency():
    config = SimConfig(resolution=(32, 32), lighting="fluorescent", mains_hz=50.0, flicker_depth=0.5)
    lighting = Lighting.random(np.random.default_rng(0), config)
    assert lighting.flicker_hz == 100.0
    times = np.arange(0, 2_000_001, 500)
    assert lighting.factor(times).mean() == pytest.approx(1.0, abs=0.01)
    sensor = _sensor(IDEAL.__class__(**{**IDEAL.__dict__, "bandwidth_hz": 2_000.0}), mismatch=0.03)
    scene = grey(4.5)
    light = lighting.factor(times)
    sensor.start(scene, float(light[0]))
    events = np.concatenate([sensor.step(scene, int(a), int(b), float(f))
                             for a, b, f in zip(times[:-1], times[1:], light[1:], strict=True)])
    assert len(events) > 1_000
    rate = np.bincount(events["t"] // 500, minlength=times.size).astype(float)
    power = np.abs(np.fft.rfft(rate - rate.mean())) ** 2
    freq = np.fft.rfftfreq(rate.size, 500e-6)
    assert abs(freq[np.argmax(power)] - 100.0) < 1.0
    # Without flicker the same still scene stays silent.
    steady = _sensor(IDEAL.__class__(**{**IDEAL.__dict__, "bandwidth_hz": 2_000.0}), mismatch=0.03)
    steady.start(scene)
    assert sum(len(steady.step(scene, int(a), int(b))) for a, b in zip(times[:-1], times[1:], strict=True)) == 0


def test_background_noise_fires_at_the_configured_rate():
    """Shot noise and leak events together average the configured rate per pixel (light
    level 1), within 10 %; hot pixels fire on top at their own rates; leaks are ON."""
    settings = IDEAL.__class__(**{**IDEAL.__dict__, "noise_hz": 0.5, "hot_pixels": 3})
    sensor = _sensor(settings, size=64, hot_pixel_hz=200.0)
    sensor.start(grey(4.0, 64) + np.linspace(0, 60, 64, dtype=np.float32))  # some darker, some brighter
    noise = sensor.noise(0, 4_000_000)
    assert np.all(np.diff(noise["t"]) >= 0) and noise["t"].min() >= 0 and noise["t"].max() < 4_000_000
    pixel = noise["y"].astype(int) * 64 + noise["x"]
    hot = np.isin(pixel, sensor.hot_pixels)
    background = (~hot).sum() / (64 * 64 * 4.0)
    assert background == pytest.approx(0.5, rel=0.10)
    expected_hot = sensor.hot_rates_hz.sum() * 4
    assert abs(hot.sum() - expected_hot) < 5 * np.sqrt(expected_hot)
    counts = np.bincount(pixel, minlength=64 * 64)
    assert set(np.argsort(counts)[-3:]) == set(sensor.hot_pixels.tolist())
    assert 0.5 < noise["p"][~hot].mean() < 0.7  # half of the shot noise, and every leak, is ON


def test_thresholds_vary_from_pixel_to_pixel_as_configured():
    sensor = _sensor(IDEAL.__class__(**{**IDEAL.__dict__, "threshold": 0.15}), size=128, mismatch=0.02)
    for thresholds in (sensor.threshold_on, sensor.threshold_off):
        assert thresholds.mean() == pytest.approx(0.15, abs=0.002)
        assert thresholds.std() == pytest.approx(0.02, abs=0.002)
    assert not np.array_equal(sensor.threshold_on, sensor.threshold_off)


def test_sensor_settings_are_drawn_per_session_unless_pinned():
    drawn = [SensorSettings.random(np.random.default_rng(k), SimConfig()) for k in range(50)]
    assert len({s.threshold for s in drawn}) == 50
    assert all(0.12 <= s.threshold <= 0.2 and 300 <= s.refractory_us <= 1_000 for s in drawn)
    pinned = SensorSettings.random(np.random.default_rng(0), SimConfig(threshold=0.3, noise_hz=0.0))
    assert pinned.threshold == 0.3 and pinned.noise_hz == 0.0


def test_step_before_start_is_an_error():
    with pytest.raises(RuntimeError, match="before start"):
        _sensor().step(grey(3.0), 0, 1_000)
