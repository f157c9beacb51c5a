"""Settings of the gesture simulator: the virtual sensor and the virtual person."""

from __future__ import annotations

from dataclasses import dataclass, field

from live_snn.events import Resolution


@dataclass(frozen=True)
class SimConfig:
    """Everything that shapes a simulated recording; a seed plus this gives the same events.

    Sensor defaults follow a DVS128 (128x128, the sensor of DVS128 Gesture); thresholds,
    mismatch, refractory period and noise are of the order v2e reports for real DVS pixels.
    """

    resolution: Resolution = field(default_factory=lambda: Resolution(128, 128))
    seed: int = 0
    # Time step at which the scene is re-rendered; events inside a step get timestamps
    # interpolated between its two renders, so this bounds motion blur, not time resolution.
    subframe_us: int = 1_000
    # Mean ON/OFF contrast threshold in log intensity and its pixel-to-pixel spread
    # (the DVS128 is specified at about 15 % contrast, i.e. ln 1.15 = 0.14, 2 % mismatch).
    threshold: float = 0.15
    mismatch_sigma: float = 0.025
    refractory_us: int = 200
    # Background-activity noise rate per pixel, and a few hot pixels that fire regardless.
    noise_hz: float = 0.2
    hot_pixels: int = 4
    hot_pixel_hz: float = 300.0
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
        if not self.threshold > 0:
            problems.append(f"threshold must be > 0, got {self.threshold}")
        if self.mismatch_sigma < 0:
            problems.append(f"mismatch_sigma must be >= 0, got {self.mismatch_sigma}")
        if self.refractory_us < 0:
            problems.append(f"refractory_us must be >= 0, got {self.refractory_us}")
        if self.noise_hz < 0 or self.hot_pixel_hz < 0:
            problems.append(
                f"noise rates must be >= 0, got noise_hz={self.noise_hz}, "
                f"hot_pixel_hz={self.hot_pixel_hz}"
            )
        if not 0 <= self.hot_pixels <= self.resolution.width * self.resolution.height:
            problems.append(f"hot_pixels must be within the sensor, got {self.hot_pixels}")
        for name in ("gesture_s", "rest_s"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                problems.append(f"{name} must be (low, high) with 0 < low <= high, got {(low, high)}")
        if self.resolution.width < 32 or self.resolution.height < 32:
            problems.append(f"resolution must be at least 32x32 to draw a person, got {self.resolution}")
        if problems:
            raise ValueError("invalid SimConfig: " + "; ".join(problems))
