"""Who performs what: the 11 DVS128 Gesture classes, the parameters of one performed
gesture, and the ranges people's styles are drawn from.

:mod:`live_snn.sim.gestures` turns these into arm motion; :mod:`live_snn.sim.script`
draws them per gesture from the session's seed. Every gesture draws the same count of
uniform numbers (``N_EXTRA``) whether its class uses them or not, so a session's later
draws do not depend on which classes came before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from live_snn.classes import DVS_GESTURE_CLASSES

(
    HAND_CLAP,
    RIGHT_HAND_WAVE,
    LEFT_HAND_WAVE,
    RIGHT_ARM_CW,
    RIGHT_ARM_CCW,
    LEFT_ARM_CW,
    LEFT_ARM_CCW,
    ARM_ROLL,
    AIR_DRUMS,
    AIR_GUITAR,
    OTHER,
) = range(len(DVS_GESTURE_CLASSES))

# Typical repetition rate of each class, Hz (scaled per person and per gesture).
BASE_FREQ_HZ: dict[int, float] = {
    HAND_CLAP: 2.3,
    RIGHT_HAND_WAVE: 2.4,
    LEFT_HAND_WAVE: 2.4,
    RIGHT_ARM_CW: 0.95,
    RIGHT_ARM_CCW: 0.95,
    LEFT_ARM_CW: 0.95,
    LEFT_ARM_CCW: 0.95,
    ARM_ROLL: 1.9,
    AIR_DRUMS: 2.6,
    AIR_GUITAR: 3.3,
    OTHER: 1.0,
}

N_STYLE = 24  # style numbers a class may use (STYLE_RANGES and its own)
N_EXTRA = N_STYLE + 8  # uniform random numbers every gesture draws, used or not (fixed rng use)


@dataclass(frozen=True, eq=False)
class GestureParams:
    """One performed gesture: class, when, and how (tempo, size, phase, style)."""

    label: int
    start_us: int
    end_us: int
    freq_hz: float
    amplitude: float
    phase: float
    direction: float  # +1 / -1 where a class allows either turning sense (arm roll)
    extra: np.ndarray = field(repr=False)  # N_EXTRA uniform [0, 1) numbers

    @property
    def duration_s(self) -> float:
        return (self.end_us - self.start_us) / 1e6


# How people perform each class: the range each style parameter is drawn from (body units,
# degrees, or plain factors). Every gesture draws its own value of each, from its own
# random numbers (GestureParams.extra, in the order listed).
STYLE_RANGES: dict[int, dict[str, tuple[float, float]]] = {
    HAND_CLAP: {"x": (-0.05, 0.05), "height": (0.65, 1.00), "depth": (0.35, 0.65),
                "open": (0.28, 0.48), "lift": (0.04, 0.12), "sharpness": (0.7, 1.3)},
    RIGHT_HAND_WAVE: {"drop_deg": (10, 55), "forward_deg": (5, 30), "lean_deg": (-15, 20),
                      "swing_deg": (22, 38)},
    RIGHT_ARM_CW: {"radius": (0.62, 0.90), "out": (0.05, 0.25), "centre_y": (-0.05, 0.05),
                   "depth": (0.15, 0.35), "roundness": (0.85, 1.10)},
    ARM_ROLL: {"x": (-0.04, 0.04), "height": (0.70, 1.05), "depth": (0.40, 0.65),
               "radius": (0.15, 0.35), "apart": (0.0, 0.15), "turn_deg": (0, 90)},
    AIR_DRUMS: {"height": (0.95, 1.25), "spread": (0.25, 0.47), "depth": (0.40, 0.65),
                "stroke": (0.22, 0.38), "cymbal_every": (3, 6), "cymbal_phase": (0, 6.28),
                "cymbal_odds": (0, 1), "cymbal_side": (0, 1)},
    AIR_GUITAR: {"strum_x": (-0.25, 0.0), "strum_y": (1.05, 1.30), "strum": (0.16, 0.28),
                 "strum_depth": (0.30, 0.45), "neck_rise_deg": (20, 45), "neck_x": (0.20, 0.35),
                 "reach": (0.60, 0.85), "fret_hz": (4.0, 7.0)},
    OTHER: {"variant": (0, 5), "side": (0, 1), "r_x": (-0.8, -0.3), "r_y": (0.1, 1.0),
            "l_x": (0.3, 0.8), "l_y": (0.1, 1.0), "r_z": (0.1, 0.5), "l_z": (0.1, 0.5),
            "rub_hz": (2.0, 4.5), "spot_x": (0.10, 0.28), "spot_y": (-0.05, 0.20),
            "stretch_out": (0.9, 1.2), "stretch_up": (1.9, 2.3), "swipe_y": (0.25, 0.75)},
}
STYLE_RANGES[LEFT_HAND_WAVE] = STYLE_RANGES[RIGHT_HAND_WAVE]
STYLE_RANGES[LEFT_ARM_CW] = STYLE_RANGES[RIGHT_ARM_CW]


class Style:
    """The style parameters of one performed gesture, drawn from :data:`STYLE_RANGES`."""

    def __init__(self, p: GestureParams, label: int) -> None:
        self._ranges = STYLE_RANGES[label]
        self._index = {name: k for k, name in enumerate(self._ranges)}
        self._u = p.extra

    def __getitem__(self, name: str) -> float:
        low, high = self._ranges[name]
        return low + (high - low) * float(self._u[self._index[name]])
