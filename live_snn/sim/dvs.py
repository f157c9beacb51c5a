"""A DVS pixel array in NumPy, modelled on what real DVS128 recordings show.

Per sub-frame (two consecutive renders at ``t0`` and ``t1``) every pixel:

1. sees the scene's grey level times the light (flicker included) through a logarithmic
   photoreceptor: a low-pass filter whose cut-off grows with the light it receives (in a
   dim room or on a dark sleeve the pixel lags and smears fast edges), and which
   overshoots a sudden change a little before settling back;
2. compares that signal with its reference level: each whole threshold crossed (ON when
   brighter, OFF when darker; thresholds differ from pixel to pixel) is one event, timed
   by linear interpolation between the two renders;
3. fires through a refractory period: crossings that come while the pixel is refractory
   are held and fired together as a burst (1 µs apart) when it ends.

Two more behaviours are taken from the real DVS128 recordings in ``../shared/data`` as
measured, because no simple circuit model reproduces them at this time step: a firing
sometimes repeats at once (same-pixel same-polarity intervals there are either 0-2 µs or
longer than ~200 µs; :data:`EXTRA_EVENTS_P`), and a firing is often followed, after the
refractory period and about a millisecond, by one event of the other polarity, after which
the pixel is refractory again like after any event (half of
a real pixel's consecutive events change polarity, a third of those within 2 ms; within a
4x4 block and 40 ms, about 30 % of the events are of the minority polarity).
``live-snn bench realism`` puts these statistics side by side.

Scene-independent events come on top: shot noise (both polarities, more on dark pixels
and in dim light), leak events (ON), and a few hot pixels. Everything is vectorised over
pixels and events; the loops are over sub-frames (the caller's) and over the few burst
rounds of a sub-frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from live_snn.events import EVENT_DTYPE
from live_snn.sim.config import SimConfig

_DARK_DN = 2.0  # dark current, in grey levels: the photoreceptor never sees true zero
_NEVER = np.iinfo(np.int64).min // 2
MAX_BURST = 8  # crossings held beyond this many are lost (the pixel saturates)
# How often a firing repeats: P(1 event), P(2), ... as measured on the real DVS128
# recordings in ../shared/data (same pixel, same polarity, <= 2 µs apart).
EXTRA_EVENTS_P = np.array([0.912, 0.045, 0.020, 0.012, 0.007, 0.004])
EXTRA_EVENTS_P = EXTRA_EVENTS_P / EXTRA_EVENTS_P.sum()
_WHITE = 220.0  # grey level of a white surface at light level 1


def log_intensity(grey: np.ndarray, light: float = 1.0) -> np.ndarray:
    """Grey levels (0..255) under ``light`` -> the log intensity a photoreceptor sees."""
    return np.log(grey * np.float32(light) + np.float32(_DARK_DN), dtype=np.float32)


@dataclass(frozen=True)
class SensorSettings:
    """One camera's bias settings and defects, drawn per session (or pinned by config).

    ``bandwidth_hz`` is the photoreceptor's cut-off for a white surface at light level 1;
    ``overshoot`` the fraction of a sudden change by which it overshoots, settling back
    with ``settle_ms``; ``noise_hz`` the mean background activity per pixel at light
    level 1."""

    threshold: float
    refractory_us: int
    noise_hz: float
    leak_fraction: float
    hot_pixels: int
    bandwidth_hz: float
    overshoot: float
    settle_ms: float
    rebound: float
    rebound_ms: float

    @classmethod
    def random(cls, rng: np.random.Generator, config: SimConfig) -> SensorSettings:
        u = rng.random(10)
        return cls(
            threshold=config.threshold if config.threshold is not None else float(0.12 + 0.08 * u[0]),
            refractory_us=(config.refractory_us if config.refractory_us is not None
                           else int(300 + 700 * u[1])),
            noise_hz=config.noise_hz if config.noise_hz is not None else float(0.15 + 0.45 * u[2]),
            leak_fraction=float(0.1 + 0.3 * u[3]),
            hot_pixels=config.hot_pixels if config.hot_pixels is not None else int(u[4] * 3),
            bandwidth_hz=float(1000 + 2000 * u[5]),
            overshoot=float(0.3 + 0.3 * u[6]),
            settle_ms=float(1.0 + 2.0 * u[7]),
            rebound=float(0.2 + 0.2 * u[8]),
            rebound_ms=float(0.4 + 1.2 * u[9]),
        )


class DvsPixelArray:
    """Stateful emulated sensor. Call :meth:`start` with the first image, then
    :meth:`step` with each following image; each step returns the events the scene change
    caused (sorted by time; a burst may reach past ``t1``). :meth:`noise` gives the
    scene-independent events of any interval."""

    def __init__(self, config: SimConfig, settings: SensorSettings, rng_sensor: np.random.Generator,
                 rng_noise: np.random.Generator, light_level: float = 1.0,
                 rng_pixel: np.random.Generator | None = None):
        self.config = config
        self.settings = settings
        self.light_level = float(light_level)
        height, width = config.resolution.height, config.resolution.width
        self._width = width
        self._n_pixels = height * width
        # Pixel-to-pixel mismatch, independent for ON and OFF comparators; a floor keeps a
        # badly matched pixel from firing on every flicker.
        floor = 0.6 * settings.threshold
        self.threshold_on = np.maximum(
            rng_sensor.normal(settings.threshold, config.mismatch_sigma, self._n_pixels), floor
        ).astype(np.float32)
        self.threshold_off = np.maximum(
            rng_sensor.normal(settings.threshold, config.mismatch_sigma, self._n_pixels), floor
        ).astype(np.float32)
        self.hot_pixels = rng_sensor.choice(self._n_pixels, size=settings.hot_pixels, replace=False)
        # Hot pixels differ in how hot they are: a log-uniform spread around the nominal rate.
        self.hot_rates_hz = config.hot_pixel_hz * np.exp(rng_sensor.uniform(-1.0, 1.0, settings.hot_pixels))
        leak_spread = np.exp(rng_sensor.normal(0.0, 0.5, self._n_pixels))
        self._leak_spread = leak_spread / leak_spread.mean()  # the configured rate on average
        self._noise_rates_hz: np.ndarray | None = None
        self._rng = rng_noise
        # Repeats and rebounds draw from their own stream, in sub-frame order.
        self._rng_pixel = rng_pixel if rng_pixel is not None else np.random.default_rng(rng_sensor.integers(2**63))
        self._reference: np.ndarray | None = None
        self._filtered: np.ndarray | None = None  # the photoreceptor's fast stage
        self._settled: np.ndarray | None = None  # its slow stage, the overshoot's baseline
        self._signal: np.ndarray | None = None  # what the change detector compares
        self._ready_us = np.full(self._n_pixels, _NEVER, dtype=np.int64)

    # -- photoreceptor -------------------------------------------------------------------

    def start(self, grey: np.ndarray, light: float = 1.0) -> None:
        """Settle every pixel on the first image (no events for it)."""
        self._filtered = log_intensity(grey.reshape(-1), light * self.light_level)
        self._settled = self._filtered.copy()
        self._signal = self._filtered.copy()
        self._reference = self._filtered.copy()
        self._noise_rates_hz = self._noise_rates(grey.reshape(-1))

    def _noise_rates(self, grey: np.ndarray) -> np.ndarray:
        """Shot noise per pixel: more where less light falls (photon noise relative to the
        signal grows as the light falls), normalised to the configured mean at level 1."""
        irradiance = grey * self.light_level + _DARK_DN
        weight = 1.0 / np.sqrt(irradiance / _WHITE)
        weight /= max(float(weight.mean()), 1e-9)
        shot = (1 - self.settings.leak_fraction) * weight / np.sqrt(max(self.light_level, 1e-3))
        return (self.settings.noise_hz * shot).astype(np.float64)

    def step(self, grey: np.ndarray, t0_us: int, t1_us: int, light: float = 1.0) -> np.ndarray:
        """Events (structured, :data:`EVENT_DTYPE`) for the change from the previous image
        (at ``t0_us``) to ``grey`` (at ``t1_us``) under the relative ``light`` at ``t1``."""
        if self._reference is None or self._filtered is None or self._settled is None or self._signal is None:
            raise RuntimeError("DvsPixelArray.step() before start()")
        grey = grey.reshape(-1)
        target = log_intensity(grey, light * self.light_level)
        seconds = (t1_us - t0_us) * 1e-6
        # Fast stage: first-order low-pass, cut-off proportional to the light on the pixel.
        cutoff = self.settings.bandwidth_hz * np.clip(grey * (light * self.light_level) / _WHITE, 0.02, 2.0)
        alpha = (1.0 - np.exp(-2 * np.pi * cutoff * seconds)).astype(np.float32)
        self._filtered += alpha * (target - self._filtered)
        # Slow stage: the fast one's trend; the signal overshoots by the gap between them.
        beta = np.float32(1.0 - np.exp(-seconds / (self.settings.settle_ms * 1e-3)))
        self._settled += beta * (self._filtered - self._settled)
        previous = self._signal
        current = self._filtered + np.float32(self.settings.overshoot) * (self._filtered - self._settled)
        events = self._signal_events(previous, current, t0_us, t1_us)
        self._signal = current
        return events

    # -- change detection ------------------------------------------------------------------

    def _signal_events(self, previous: np.ndarray, current: np.ndarray, t0_us: int, t1_us: int) -> np.ndarray:
        reference = self._reference
        change = current - reference
        on_pixels = np.flatnonzero(change >= self.threshold_on)
        off_pixels = np.flatnonzero(change <= -self.threshold_off)
        if on_pixels.size == 0 and off_pixels.size == 0:
            return np.empty(0, dtype=EVENT_DTYPE)
        pixels = np.concatenate([on_pixels, off_pixels])
        theta = np.concatenate([self.threshold_on[on_pixels], -self.threshold_off[off_pixels]])
        crossings = np.floor(change[pixels] / theta).astype(np.int64)  # theta signed: > 0
        start_level = reference[pixels]
        reference[pixels] = start_level + crossings * theta

        # Crossings are evenly spaced in time: the first at `first`, then every `gap` µs.
        duration = t1_us - t0_us
        span = current[pixels] - previous[pixels]
        safe = np.where(np.abs(span) > 1e-12, span, np.sign(theta) * 1e-12)
        first_fraction = np.clip((start_level + theta - previous[pixels]) / safe, 0.0, 1.0)
        first = t0_us + first_fraction * duration
        gap = np.abs(theta / safe) * duration
        return self._fire(pixels, crossings, first, gap, theta > 0)

    def _fire(self, pixels, crossings, first, gap, is_on) -> np.ndarray:
        """Turn each pixel's crossings into events through the refractory period.

        In each round every pixel fires its next crossing, or, if refractory, all crossings
        held until it recovers, as one burst. As on a real DVS128, a firing may repeat
        (:data:`EXTRA_EVENTS_P`, 1 µs apart), and may be followed by a rebound of the other
        polarity (probability ``rebound``, after the refractory period plus an exponential
        delay of ``rebound_ms``): a transient that leaves the reference where it was.
        """
        refractory = self.settings.refractory_us
        rng = self._rng_pixel
        ready = self._ready_us[pixels].astype(np.float64)
        done = np.zeros(pixels.size, dtype=np.int64)  # crossings dealt with per pixel
        releases, sizes, owners, rebound_at = [], [], [], []
        active = np.flatnonzero(crossings > 0)
        while active.size:
            due = first[active] + done[active] * gap[active]
            release = np.floor(np.maximum(due, ready[active])).astype(np.int64)
            waiting = np.floor((release - due) / np.maximum(gap[active], 1e-9)).astype(np.int64) + 1
            caught = np.clip(waiting, 1, crossings[active] - done[active])
            size = np.minimum(caught + rng.choice(len(EXTRA_EVENTS_P), active.size, p=EXTRA_EVENTS_P), MAX_BURST)
            last = release + size - 1
            # A rebound is an event like any other: the pixel is refractory after it too,
            # so nothing it fires next comes sooner than the refractory period after it.
            rebounds = rng.random(active.size) < self.settings.rebound
            delay = refractory + rng.exponential(self.settings.rebound_ms * 1e3, active.size)
            rebound = np.where(rebounds, last + delay.astype(np.int64), _NEVER)
            releases.append(release)
            sizes.append(size)
            owners.append(active)
            rebound_at.append(rebound)
            ready[active] = np.maximum(last, rebound) + refractory
            done[active] += caught
            active = active[done[active] < crossings[active]]
        release, size, owner, rebound = (np.concatenate(parts) for parts in
                                         (releases, sizes, owners, rebound_at))
        self._ready_us[pixels] = ready.astype(np.int64)

        # Every firing as `size` events 1 µs apart, then the rebounds.
        repeat = np.repeat(np.arange(owner.size), size)
        rank = np.arange(repeat.size) - np.repeat(np.cumsum(size) - size, size)
        t = release[repeat] + rank
        polarity = is_on[owner][repeat]
        rebounds = rebound != _NEVER
        t = np.concatenate([t, rebound[rebounds]])
        polarity = np.concatenate([polarity, ~is_on[owner][rebounds]])
        where = np.concatenate([pixels[owner][repeat], pixels[owner][rebounds]])

        events = np.empty(t.size, dtype=EVENT_DTYPE)
        events["t"] = t
        events["x"] = where % self._width
        events["y"] = where // self._width
        events["p"] = polarity
        return events[np.argsort(t, kind="stable")]

    # -- scene-independent events ------------------------------------------------------------

    def noise(self, t0_us: int, t1_us: int) -> np.ndarray:
        """Shot-noise, leak and hot-pixel events in ``[t0, t1)``, sorted by time. Draws from
        the noise stream in call order: call it on fixed intervals to stay reproducible."""
        if self._noise_rates_hz is None:
            raise RuntimeError("DvsPixelArray.noise() before start()")
        rng = self._rng
        seconds = (t1_us - t0_us) / 1e6
        shot = rng.poisson(self._noise_rates_hz * seconds)
        leak_rate = self.settings.noise_hz * self.settings.leak_fraction * self._leak_spread
        leak = rng.poisson(leak_rate * seconds)
        hot = rng.poisson(self.hot_rates_hz * seconds)
        shot_pixels = np.repeat(np.arange(self._n_pixels), shot)
        leak_pixels = np.repeat(np.arange(self._n_pixels), leak)
        hot_pixels = np.repeat(self.hot_pixels, hot)
        pixels = np.concatenate([shot_pixels, leak_pixels, hot_pixels])
        n = pixels.size
        events = np.empty(n, dtype=EVENT_DTYPE)
        if n == 0:
            return events
        events["t"] = rng.integers(t0_us, t1_us, n)
        events["x"] = pixels % self._width
        events["y"] = pixels // self._width
        polarity = rng.integers(0, 2, n)
        polarity[shot_pixels.size:shot_pixels.size + leak_pixels.size] = 1  # leaks are ON
        events["p"] = polarity
        return events[np.argsort(events["t"], kind="stable")]
