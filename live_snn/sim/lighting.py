"""The light the scene is seen in: its level and how it flickers.

DVS128 Gesture was recorded under fluorescent tubes, LED lamps and natural light. A
fluorescent tube's output follows the mains current's magnitude, so it flickers at twice
the mains frequency (120 Hz on 60 Hz mains); an LED lamp's driver may leave a small ripple
at a few hundred Hz; daylight drifts slowly. The light multiplies every pixel's
irradiance, so in log intensity, what a DVS pixel sees, flicker is the same offset
everywhere: it reaches only the pixels whose threshold it exceeds after their
photoreceptor has low-passed it (dim pixels are slower and see less of it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from live_snn.sim.config import LIGHTING_KINDS, SimConfig


@dataclass(frozen=True)
class Lighting:
    """``level`` scales the scene's irradiance (1 = an ordinary office); the light at time
    ``t`` is ``level * factor(t)``, with ``factor`` averaging 1."""

    kind: str
    level: float
    flicker_hz: float
    flicker_depth: float
    drift_phase: float

    @classmethod
    def random(cls, rng: np.random.Generator, config: SimConfig) -> Lighting:
        draws = rng.random(5)  # fixed use of the stream, whatever is pinned
        kind = config.lighting or LIGHTING_KINDS[int(draws[0] * len(LIGHTING_KINDS))]
        if kind == "fluorescent":
            flicker_hz, depth = 2 * config.mains_hz, 0.01 + 0.03 * draws[1]
            level = 0.6 + 0.9 * draws[2]
        elif kind == "led":
            # Most LED drivers ripple little; some PWM dimmers flicker fast.
            flicker_hz, depth = 300.0 + 700.0 * draws[1], 0.03 * draws[3]
            level = 0.5 + 1.0 * draws[2]
        else:
            flicker_hz, depth = 0.0, 0.0
            level = 0.8 + 2.2 * draws[2]
        if config.flicker_depth is not None:
            depth = config.flicker_depth
            if flicker_hz == 0.0 and depth > 0:
                flicker_hz = 2 * config.mains_hz
        if config.light_level is not None:
            level = config.light_level
        return cls(kind, float(level), float(flicker_hz), float(depth), float(2 * np.pi * draws[4]))

    def factor(self, t_us: np.ndarray | int) -> np.ndarray:
        """Relative light at ``t_us`` (mean 1): daylight drifts by a few percent; a
        fluorescent tube follows |sin| of the mains phase, an LED's PWM is a square wave."""
        t_s = np.asarray(t_us, dtype=np.float64) / 1e6
        light = np.ones_like(t_s)
        if self.kind == "natural":
            light = light + 0.03 * np.sin(2 * np.pi * 0.07 * t_s + self.drift_phase)
        if self.flicker_depth > 0:
            if self.kind == "led":
                wave = 1.0 + np.sign(np.sin(2 * np.pi * self.flicker_hz * t_s + self.drift_phase))
            else:  # |sin(pi f t)| repeats at f, the tube's flicker frequency; mean 2/pi
                wave = np.abs(np.sin(np.pi * self.flicker_hz * t_s + self.drift_phase)) * (np.pi / 2)
            light = light * (1.0 - self.flicker_depth + self.flicker_depth * wave)
        return light
