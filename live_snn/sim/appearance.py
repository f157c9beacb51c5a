"""How the person and the room look: reflectances, clothes and the wall behind.

In the real DVS128 recordings the moving arms are mostly *darker* than what they pass in
front of: their OFF events lead and their ON events trail (``live-snn bench realism``,
"motion polarity"). So in most sessions the person is darker than a lit wall; in the
others a bright shirt and skin stand against a dim room. Clothes carry texture (stripes,
checks, prints, folds) because a moving textured sleeve fires inside its outline, not only
at its edges, as the real recordings' thick event bands show.

Reflectances are 0..1; the renderer maps them to grey levels and the lighting scales them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PATTERNS = ("plain", "stripes", "vertical stripes", "checks", "print")


@dataclass(frozen=True)
class Look:
    """The looks of one session (all reflectances 0..1)."""

    person_darker: bool
    wall: float
    wall_detail: float  # contrast of the wall's posters, frames and furniture
    shirt: float
    shirt_pattern: str
    pattern_period: float  # body units
    pattern_contrast: float
    long_sleeves: bool
    skin: float
    hair: float
    shading: float  # how much brighter a limb's lit middle is than its sides
    seed: int  # for the static texture of the wall and the print

    @classmethod
    def random(cls, rng: np.random.Generator) -> Look:
        u = rng.random(14)
        person_darker = bool(u[0] < 0.78)
        if person_darker:
            wall = 0.45 + 0.45 * u[1]
            shirt = wall * (0.12 + 0.50 * u[2])
            skin = wall * (0.35 + 0.45 * u[3])
            hair = 0.03 + 0.10 * u[4]
        else:
            wall = 0.07 + 0.13 * u[1]
            shirt = min(0.95, wall * (2.5 + 3.0 * u[2]))
            skin = min(0.9, wall * (2.0 + 2.5 * u[3]))
            hair = wall * (0.3 + 0.5 * u[4])
        return cls(
            person_darker=person_darker,
            wall=float(wall),
            wall_detail=float(0.10 + 0.35 * u[5]),
            shirt=float(shirt),
            shirt_pattern=PATTERNS[int(u[6] * len(PATTERNS))],
            pattern_period=float(0.07 + 0.12 * u[7]),
            pattern_contrast=float(0.15 + 0.40 * u[8]),
            long_sleeves=bool(u[9] < 0.6),
            skin=float(skin),
            hair=float(hair),
            shading=float(0.15 + 0.20 * u[10]),
            seed=int(u[11] * 2**31),
        )

    @property
    def sleeve(self) -> float:
        return self.shirt

    @property
    def forearm(self) -> float:
        """What the forearm shows: the sleeve, or bare skin under short sleeves."""
        return self.shirt if self.long_sleeves else self.skin
