"""The simulated person: body proportions, looks, placement, and the arm kinematics.

Coordinates: "body units" have their origin at the base of the neck, x to the image's right,
y down (image convention), 1 unit = shoulder width. The person faces the camera, so the
person's RIGHT arm is on the IMAGE LEFT (negative x); that is the convention every gesture
uses ("right hand wave" moves the arm seen on the left of the frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from live_snn.events import Resolution

# Joint order in a pose array [..., J, 2].
JOINTS: tuple[str, ...] = (
    "head", "neck", "r_shoulder", "r_elbow", "r_hand", "l_shoulder", "l_elbow", "l_hand",
)
HEAD, NECK, R_SHOULDER, R_ELBOW, R_HAND, L_SHOULDER, L_ELBOW, L_HAND = range(len(JOINTS))

# Fixed body-unit geometry that gestures are written against.
R_SHOULDER_XY = np.array([-0.5, 0.0])
L_SHOULDER_XY = np.array([0.5, 0.0])
HEAD_XY = np.array([0.0, -0.62])
# Hands hanging at the sides, slightly away from the hips.
R_REST_HAND_XY = np.array([-0.64, 1.08])
L_REST_HAND_XY = np.array([0.64, 1.08])


@dataclass(frozen=True)
class BodyShape:
    """One person in one session: size, proportions, place in the frame and grey levels.

    ``scale_px`` is the shoulder width in pixels and ``origin_px`` the neck base in pixels.
    Grey levels are 8-bit intensities of the rendered scene (the DVS sees their logarithm).
    """

    origin_px: tuple[float, float]
    scale_px: float
    upper_arm: float
    forearm: float
    arm_width: float
    hand_radius: float
    head_size: float
    background: float
    shirt: float
    skin: float
    hair: float
    # Creases of the shirt, body units relative to the neck: (x0, y0, x1, y1, shade).
    folds: tuple[tuple[float, float, float, float, float], ...] = ()

    @classmethod
    def random(cls, rng: np.random.Generator, resolution: Resolution) -> BodyShape:
        width, height = resolution.width, resolution.height
        # The DVS128 Gesture framing: upper body filling most of the frame height.
        scale = min(height, width * 1.2) * rng.uniform(0.30, 0.38)
        origin = (
            width / 2 + width * rng.uniform(-0.08, 0.08),
            height * rng.uniform(0.36, 0.44),
        )
        # Shirt darker or lighter than the wall, skin lighter than both: varied contrasts.
        background = rng.uniform(70, 130)
        shirt = background * (rng.uniform(0.35, 0.65) if rng.random() < 0.6 else rng.uniform(1.5, 2.0))
        return cls(
            origin_px=(float(origin[0]), float(origin[1])),
            scale_px=float(scale),
            upper_arm=float(rng.uniform(0.56, 0.66)),
            forearm=float(rng.uniform(0.50, 0.58)),
            arm_width=float(rng.uniform(0.2, 0.26)),
            hand_radius=float(rng.uniform(0.1, 0.13)),
            head_size=float(rng.uniform(0.92, 1.08)),
            background=float(background),
            shirt=float(min(shirt, 230.0)),
            skin=float(rng.uniform(150, 225)),
            hair=float(rng.uniform(15, 60)),
            folds=tuple(
                (
                    float(x0), float(y0), float(x0 + dx), float(y0 + dy), float(shade)
                )
                for x0, y0, dx, dy, shade in zip(
                    rng.uniform(-0.4, 0.4, 5), rng.uniform(0.15, 1.2, 5), rng.uniform(-0.2, 0.2, 5),
                    rng.uniform(0.1, 0.4, 5), rng.uniform(0.75, 1.3, 5), strict=True,
                )
            ),
        )

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        """Body units -> pixel coordinates (any leading shape, last axis = x, y)."""
        return np.asarray(self.origin_px) + self.scale_px * np.asarray(xy)


def elbow_from_hand(
    shoulder: np.ndarray, hand: np.ndarray, upper: float, lower: float, bend: float
) -> np.ndarray:
    """Two-link inverse kinematics in the image plane, vectorised over leading axes.

    Returns the elbow for each shoulder/hand pair. ``bend`` = +1 puts the elbow on the side
    reached by turning the shoulder->hand direction clockwise on screen (y down), -1 the
    other side. Hands out of reach are pulled onto the reachable ring (arm straight).
    """
    delta = hand - shoulder
    dist = np.linalg.norm(delta, axis=-1, keepdims=True)
    reach = np.clip(dist, abs(upper - lower) + 1e-6, upper + lower - 1e-6)
    direction = delta / np.maximum(dist, 1e-9)
    cos_g = np.clip((upper**2 + reach**2 - lower**2) / (2 * upper * reach), -1.0, 1.0)
    gamma = bend * np.arccos(cos_g)
    c, s = np.cos(gamma), np.sin(gamma)
    rotated = np.concatenate(
        [direction[..., :1] * c - direction[..., 1:] * s, direction[..., :1] * s + direction[..., 1:] * c],
        axis=-1,
    )
    return shoulder + upper * rotated
