"""Augmenting training windows so a model trained on simulated events meets a real camera
with fewer surprises.

A real sensor drops events the simulator would have made (bias settings, bandwidth, the
bus under load), adds noise it did not (dark rooms, hot pixels), sees people nearer or
further, a little off centre or tilted, and people gesture faster or slower than any
simulated person. Each training window therefore gets, independently:

* **event drop-out**: every event kept with probability ``keep`` (binomial thinning of the
  counts), ``keep`` drawn in ``[1 - event_dropout, 1]``;
* **noise injection**: Poisson background events at a rate drawn in ``[0, noise_hz]`` per
  pixel and polarity;
* **spatial scale and rotation**: zoom by up to ``±scale`` and turn by up to
  ``±rotate_deg`` about the frame centre (nearest pixel, so counts stay counts);
* **time stretch**: played up to ``±time_stretch`` faster or slower, by resampling the bins
  (the labels follow the same bins), with the counts per bin scaled by the speed-up and
  rounded stochastically.

The per-window numbers come from the sampler's seeded generator, so a resumed run draws
the same augmented windows as an uninterrupted one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F

# What a user types for each field of Augmentation (``--augment dropout=0.3,noise=2``).
SPELLINGS = {"dropout": "event_dropout", "noise": "noise_hz", "scale": "scale",
             "rotate": "rotate_deg", "stretch": "time_stretch"}


@dataclass(frozen=True)
class Augmentation:
    event_dropout: float = 0.0  # drop up to this fraction of a window's events
    noise_hz: float = 0.0  # add up to this many noise events per pixel and polarity per second
    scale: float = 0.0  # zoom by up to this fraction either way
    rotate_deg: float = 0.0  # turn by up to this many degrees either way
    time_stretch: float = 0.0  # play up to this fraction faster or slower

    def __post_init__(self) -> None:
        problems = []
        if not 0.0 <= self.event_dropout < 1.0:
            problems.append(f"dropout must be in [0, 1), got {self.event_dropout}")
        if not 0.0 <= self.noise_hz <= 1000.0:
            problems.append(f"noise must be in [0, 1000] Hz, got {self.noise_hz}")
        if not 0.0 <= self.scale < 1.0:
            problems.append(f"scale must be in [0, 1), got {self.scale}")
        if not 0.0 <= self.rotate_deg <= 180.0:
            problems.append(f"rotate must be in [0, 180] degrees, got {self.rotate_deg}")
        if not 0.0 <= self.time_stretch < 1.0:
            problems.append(f"stretch must be in [0, 1), got {self.time_stretch}")
        if problems:
            raise ValueError("invalid augmentation: " + "; ".join(problems))

    @classmethod
    def parse(cls, text: str | None) -> Augmentation:
        """``dropout=0.3,noise=2,scale=0.15,rotate=10,stretch=0.2`` (any subset)."""
        if not text:
            return cls()
        values = {}
        for part in text.split(","):
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep or key not in SPELLINGS:
                raise ValueError(f"augmentation {part.strip()!r} is not KEY=VALUE with KEY one of "
                                 f"{', '.join(SPELLINGS)}")
            try:
                values[SPELLINGS[key]] = float(value)
            except ValueError:
                raise ValueError(f"augmentation {key} needs a number, got {value!r}") from None
        return cls(**values)

    @classmethod
    def of(cls, value: Augmentation | dict | None) -> Augmentation:
        """Accept an Augmentation or its dict (as a saved run records it)."""
        if isinstance(value, Augmentation):
            return value
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (value or {}).items() if k in known})

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) > 0 for f in fields(self))


@dataclass(frozen=True)
class WindowAugmentation:
    """The numbers drawn for one batch: one value of each per window."""

    keep: np.ndarray  # [B] probability an event survives
    noise_per_bin: np.ndarray  # [B] noise events per pixel and polarity per bin
    zoom: np.ndarray  # [B]
    angle: np.ndarray  # [B] radians
    speed: np.ndarray  # [B] > 1 plays faster
    torch_seed: int

    @classmethod
    def draw(cls, augmentation: Augmentation, rng: np.random.Generator, batch_size: int,
             dt_us: int) -> WindowAugmentation:
        u = rng.random((5, batch_size))
        a = augmentation
        return cls(
            keep=1.0 - a.event_dropout * u[0],
            noise_per_bin=a.noise_hz * u[1] * dt_us * 1e-6,
            zoom=1.0 + a.scale * (2 * u[2] - 1),
            angle=np.radians(a.rotate_deg) * (2 * u[3] - 1),
            speed=1.0 + a.time_stretch * (2 * u[4] - 1),
            torch_seed=int(rng.integers(2**62)),
        )


def stretched_bins(length: int, speed: float) -> np.ndarray:
    """Which source bin each of ``length`` output bins shows when played ``speed`` times
    as fast (relative to the window's first bin)."""
    return np.floor(np.arange(length) * speed).astype(np.int64)


def apply(frames: torch.Tensor, drawn: WindowAugmentation) -> torch.Tensor:
    """Augment counts ``[T, B, 2, H, W]`` (already resampled in time by the sampler)."""
    generator = torch.Generator().manual_seed(drawn.torch_seed)
    speed = torch.as_tensor(drawn.speed, dtype=frames.dtype)[None, :, None, None, None]
    if not torch.all(speed == 1):
        # Faster playback packs more events into a bin: scale, then round stochastically.
        scaled = frames * speed
        frames = torch.floor(scaled) + (torch.rand(scaled.shape, generator=generator) < scaled % 1)
    keep = torch.as_tensor(drawn.keep, dtype=frames.dtype)[None, :, None, None, None]
    if not torch.all(keep == 1):
        frames = torch.binomial(frames, keep.expand_as(frames), generator=generator)
    rate = torch.as_tensor(drawn.noise_per_bin, dtype=frames.dtype)[None, :, None, None, None]
    if torch.any(rate > 0):
        frames = frames + torch.poisson(rate.expand_as(frames), generator=generator)
    if np.any(drawn.zoom != 1) or np.any(drawn.angle != 0):
        frames = _turn_and_zoom(frames, drawn.zoom, drawn.angle)
    return frames


def _turn_and_zoom(frames: torch.Tensor, zoom: np.ndarray, angle: np.ndarray) -> torch.Tensor:
    """Each window's frames zoomed and turned about the centre, nearest pixel, empty where
    the source lies outside the frame."""
    t, b, c, h, w = frames.shape
    theta = torch.zeros((b, 2, 3), dtype=frames.dtype)
    for k in range(b):  # one 2x3 matrix per window
        cos, sin = math.cos(angle[k]) / zoom[k], math.sin(angle[k]) / zoom[k]
        theta[k, 0, 0], theta[k, 0, 1], theta[k, 1, 0], theta[k, 1, 1] = cos, -sin, sin, cos
    grid = F.affine_grid(theta, [b, t * c, h, w], align_corners=False)
    per_window = frames.permute(1, 0, 2, 3, 4).reshape(b, t * c, h, w)
    out = F.grid_sample(per_window, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    return out.reshape(b, t, c, h, w).permute(1, 0, 2, 3, 4).contiguous()
