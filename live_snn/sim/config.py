"""Settings of the gesture simulator: what a user may pin, and what each session draws.

A seed and a :class:`SimConfig` give one reproducible session. Everything that differs
between real recordings (the person, their clothes and room, the lighting, the camera's
bias settings) is drawn per session from the seed; a setting given here pins it instead.
The ranges the draws come from were set by ``live-snn bench realism``: the statistics of
the real DVS128 recordings in ``../shared/data`` and a network trained on real DVS128
Gesture (docs/results.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from live_snn.events import Resolution

LIGHTING_KINDS = ("fluorescent", "led", "natural")


@dataclass(frozen=True)
class SimConfig:
    """Everything that shapes a simulated recording; a seed plus this gives the same events.

    Sensor settings left at ``None`` are drawn per session, as real cameras' bias settings
    and real rooms differ; give a number to pin one (tests and the ``sim:`` spec do).
    """

    resolution: Resolution = field(default_factory=lambda: Resolution(128, 128))
    seed: int = 0
    # Time step at which the scene is re-rendered; events inside a step get timestamps
    # interpolated between its two renders, so this bounds motion blur, not time resolution.
    subframe_us: int = 1_000
    # Contrast threshold (log intensity) and its pixel-to-pixel spread; None = per session.
    threshold: float | None = None
    mismatch_sigma: float = 0.03
    # Refractory period: crossings inside it are held and fired as a burst when it ends.
    refractory_us: int | None = None
    # Background activity per pixel (shot noise and leak events together), Hz.
    noise_hz: float | None = None
    hot_pixels: int | None = None
    hot_pixel_hz: float = 30.0
    # Lighting: one of LIGHTING_KINDS or None (drawn); fluorescent tubes flicker at twice the
    # mains frequency.
    lighting: str | None = None
    mains_hz: float = 60.0
    flicker_depth: float | None = None
    # Brightness of the scene relative to an ordinary office (1); lower = dimmer room, a
    # slower photoreceptor (lag) and more shot noise. None = per session.
    light_level: float | None = None
    # A "person" knob set for making someone new: scales on the session's own draws.
    speed_scale: float = 1.0
    size_scale: float = 1.0
    # Gesture and rest lengths, seconds (each gesture's length is drawn in this range).
    gesture_s: tuple[float, float] = (1.5, 3.0)
    rest_s: tuple[float, float] = (0.3, 0.9)
    # Timestamp of the first rendered instant of a session, µs.
    t0_us: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "resolution", Resolution.of(self.resolution))
        problems = []
        if self.seed < 0:
            problems.append(f"seed must be >= 0, got {self.seed}")
        if self.subframe_us <= 0:
            problems.append(f"subframe_us must be > 0, got {self.subframe_us}")
        if self.threshold is not None and not self.threshold > 0:
            problems.append(f"threshold must be > 0, got {self.threshold}")
        if self.mismatch_sigma < 0:
            problems.append(f"mismatch_sigma must be >= 0, got {self.mismatch_sigma}")
        if self.refractory_us is not None and self.refractory_us < 0:
            problems.append(f"refractory_us must be >= 0, got {self.refractory_us}")
        if (self.noise_hz is not None and self.noise_hz < 0) or self.hot_pixel_hz < 0:
            problems.append(
                f"noise rates must be >= 0, got noise_hz={self.noise_hz}, "
                f"hot_pixel_hz={self.hot_pixel_hz}"
            )
        n_pixels = self.resolution.width * self.resolution.height
        if self.hot_pixels is not None and not 0 <= self.hot_pixels <= n_pixels:
            problems.append(f"hot_pixels must be within the sensor, got {self.hot_pixels}")
        if self.lighting is not None and self.lighting not in LIGHTING_KINDS:
            problems.append(f"lighting must be one of {', '.join(LIGHTING_KINDS)}, got {self.lighting!r}")
        if not self.mains_hz > 0:
            problems.append(f"mains_hz must be > 0, got {self.mains_hz}")
        if self.flicker_depth is not None and not 0 <= self.flicker_depth < 1:
            problems.append(f"flicker_depth must be in [0, 1), got {self.flicker_depth}")
        if self.light_level is not None and not 0.02 <= self.light_level <= 20:
            problems.append(f"light_level must be in [0.02, 20], got {self.light_level}")
        if not 0.25 <= self.speed_scale <= 4:
            problems.append(f"speed_scale must be in [0.25, 4], got {self.speed_scale}")
        if not 0.5 <= self.size_scale <= 1.6:
            problems.append(f"size_scale must be in [0.5, 1.6], got {self.size_scale}")
        for name in ("gesture_s", "rest_s"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                problems.append(f"{name} must be (low, high) with 0 < low <= high, got {(low, high)}")
        if self.resolution.width < 32 or self.resolution.height < 32:
            problems.append(f"resolution must be at least 32x32 to draw a person, got {self.resolution}")
        if self.resolution.width > 4096 or self.resolution.height > 4096:
            problems.append(f"resolution must be at most 4096x4096, got {self.resolution}")
        if problems:
            raise ValueError("invalid SimConfig: " + "; ".join(problems))
