"""A DVS pixel array in NumPy: log-intensity change against a per-pixel threshold.

Per sub-frame (two consecutive renders at ``t0`` and ``t1``), every pixel compares the new
log intensity with its reference level; each whole threshold crossed is one event
(ON when brighter, OFF when darker), timed by linear interpolation of the log intensity
between the two renders, and the reference moves by the thresholds crossed. Events closer
than the refractory period to the pixel's previous event are dropped. Background-activity
noise (Poisson per pixel) and a few hot pixels are added. Everything is vectorised over
pixels and events; the only Python loop is the caller's loop over sub-frames.
"""

from __future__ import annotations

import numpy as np

from live_snn.events import EVENT_DTYPE
from live_snn.sim.config import SimConfig

_EPS_DN = 4.0  # dark offset before the logarithm: the photoreceptor never sees true zero
_NEVER = np.iinfo(np.int64).min // 2


def log_intensity(grey: np.ndarray) -> np.ndarray:
    """Grey levels (0..255) -> the log intensity a DVS photoreceptor responds to."""
    return np.log(grey + np.float32(_EPS_DN), dtype=np.float32)


class DvsPixelArray:
    """Stateful emulated sensor. Call :meth:`start` with the first image, then
    :meth:`step` with each following image; each step returns the events the scene change
    caused in ``[t0, t1)``, sorted by time. :meth:`noise` gives the scene-independent
    events (background activity, hot pixels) of any interval."""

    def __init__(self, config: SimConfig, rng_sensor: np.random.Generator, rng_noise: np.random.Generator):
        self.config = config
        height, width = config.resolution.height, config.resolution.width
        self._shape = (height, width)
        self._n_pixels = height * width
        # Pixel-to-pixel mismatch, independent for ON and OFF comparators; a floor keeps a
        # badly matched pixel from firing on every flicker.
        floor = 0.3 * config.threshold
        self.threshold_on = np.maximum(
            rng_sensor.normal(config.threshold, config.mismatch_sigma, self._n_pixels), floor
        ).astype(np.float32)
        self.threshold_off = np.maximum(
            rng_sensor.normal(config.threshold, config.mismatch_sigma, self._n_pixels), floor
        ).astype(np.float32)
        self.hot_pixels = rng_sensor.choice(self._n_pixels, size=config.hot_pixels, replace=False)
        # Hot pixels differ in how hot they are: a log-uniform spread around the nominal rate.
        self.hot_rates_hz = config.hot_pixel_hz * np.exp(rng_sensor.uniform(-1.0, 1.0, config.hot_pixels))
        self._rng = rng_noise
        self._reference: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        self._last_event_us = np.full(self._n_pixels, _NEVER, dtype=np.int64)

    def start(self, log_image: np.ndarray) -> None:
        """Set every pixel's reference to the first image (no events for it)."""
        self._reference = log_image.reshape(-1).astype(np.float32, copy=True)
        self._previous = self._reference.copy()

    def step(self, log_image: np.ndarray, t0_us: int, t1_us: int) -> np.ndarray:
        """Events (structured, :data:`EVENT_DTYPE`) for the change from the previous image
        (at ``t0_us``) to ``log_image`` (at ``t1_us``)."""
        if self._reference is None or self._previous is None:
            raise RuntimeError("DvsPixelArray.step() before start()")
        current = log_image.reshape(-1)
        events = self._signal_events(current, t0_us, t1_us)
        self._previous = current.astype(np.float32, copy=True)
        return events

    def _signal_events(self, current: np.ndarray, t0_us: int, t1_us: int) -> np.ndarray:
        reference, previous = self._reference, self._previous
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

        # One candidate event per crossing k = 1..n of each pixel, grouped by pixel.
        total = int(crossings.sum())
        owner = np.repeat(np.arange(pixels.size), crossings)
        k = np.arange(total) - np.repeat(np.cumsum(crossings) - crossings, crossings) + 1
        level = start_level[owner] + k * theta[owner]
        before = previous[pixels][owner]
        after = current[pixels][owner]
        span = after - before
        safe_span = np.where(np.abs(span) > 1e-12, span, 1.0)
        fraction = np.where(np.abs(span) > 1e-12, (level - before) / safe_span, 1.0)
        duration = t1_us - t0_us
        t = t0_us + np.floor(np.clip(fraction, 0.0, 1.0) * duration).astype(np.int64)
        np.minimum(t, t1_us - 1, out=t)

        keep = self._refractory_keep(pixels, owner, k, t, theta, span, duration)
        kept_pixels = pixels[owner[keep]]
        kept_t = t[keep]
        # Last kept event of each pixel (events of a pixel are contiguous and in time order).
        if kept_t.size:
            last = np.flatnonzero(np.append(kept_pixels[1:] != kept_pixels[:-1], True))
            self._last_event_us[kept_pixels[last]] = kept_t[last]

        width = self._shape[1]
        events = np.empty(kept_t.size, dtype=EVENT_DTYPE)
        events["t"] = kept_t
        events["x"] = kept_pixels % width
        events["y"] = kept_pixels // width
        events["p"] = theta[owner[keep]] > 0
        return events[np.argsort(kept_t, kind="stable")]

    def _refractory_keep(self, pixels, owner, k, t, theta, span, duration) -> np.ndarray:
        """Which candidate events survive the refractory period.

        A pixel's crossings in one sub-frame are evenly spaced by ``gap`` µs, so the
        survivors are the first one at least ``r`` after the pixel's previous event and then
        every ``ceil(r / gap)``-th; computed in closed form instead of event by event.
        """
        refractory = self.config.refractory_us
        if refractory <= 0 or t.size == 0:
            return np.ones(t.size, dtype=bool)
        gap = np.abs(theta[owner]) / np.maximum(np.abs(span), 1e-12) * duration
        gap = np.maximum(gap, 1e-9)
        first_t = t - (k - 1) * gap  # time of the pixel's first crossing
        since_last = first_t - self._last_event_us[pixels[owner]]
        first_kept = np.maximum(0.0, np.ceil((refractory - since_last) / gap))
        every = np.maximum(1.0, np.ceil(refractory / gap))
        index = (k - 1) - first_kept
        return (index >= 0) & (np.mod(index, every) == 0)

    def noise(self, t0_us: int, t1_us: int) -> np.ndarray:
        """Background-activity and hot-pixel events in ``[t0, t1)``, sorted by time. Draws
        from the noise stream in call order: call it on fixed intervals to stay
        reproducible."""
        config, rng = self.config, self._rng
        seconds = (t1_us - t0_us) / 1e6
        n_background = int(rng.poisson(config.noise_hz * self._n_pixels * seconds))
        hot_counts = rng.poisson(self.hot_rates_hz * seconds) if config.hot_pixels else np.zeros(0, int)
        pixels = np.concatenate(
            [rng.integers(0, self._n_pixels, n_background), np.repeat(self.hot_pixels, hot_counts)]
        )
        n = pixels.size
        if n == 0:
            return np.empty(0, dtype=EVENT_DTYPE)
        width = self._shape[1]
        events = np.empty(n, dtype=EVENT_DTYPE)
        events["t"] = rng.integers(t0_us, t1_us, n)
        events["x"] = pixels % width
        events["y"] = pixels // width
        events["p"] = rng.integers(0, 2, n)
        return events[np.argsort(events["t"], kind="stable")]
