"""The simulated person: proportions, place in the frame, and the arm kinematics.

Coordinates: "body units" have their origin at the base of the neck, between the
shoulders, x to the image's right, y down (image convention), z towards the camera,
1 unit = shoulder width. The camera looks at the person from ``camera_distance`` body
units away with a pinhole's perspective, so a hand reaching towards it looks bigger and a
forearm pointing at it looks short, as in the real recordings of claps, drums and rolls.
The person faces the camera, so the person's RIGHT arm is on the IMAGE LEFT (negative x):
a network trained on real DVS128 Gesture agrees (``live-snn bench realism``: mirrored
simulated gestures are named with the other side). Proportions follow adult
anthropometry (upper arm about 0.77 shoulder widths, forearm 0.67, hand 0.49); the framing
follows the real recordings: the shoulders a little above the middle of the frame, the
hips at its bottom edge, the arms' circles reaching its sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from live_snn.events import Resolution

# Joint order in a pose array [..., J, 2]; "hand" is the wrist, the hand extends beyond it.
JOINTS: tuple[str, ...] = (
    "head", "neck", "r_shoulder", "r_elbow", "r_hand", "l_shoulder", "l_elbow", "l_hand",
)
HEAD, NECK, R_SHOULDER, R_ELBOW, R_HAND, L_SHOULDER, L_ELBOW, L_HAND = range(len(JOINTS))

# The arms pivot a little inside and below the outline's shoulder points.
R_SHOULDER_XYZ = np.array([-0.45, 0.08, 0.0])
L_SHOULDER_XYZ = np.array([0.45, 0.08, 0.0])

# Where the person stands in the frame, as fractions of the sensor: the shoulder width
# (of the shorter side), the neck's height from the top, and how far off centre they stand.
# Fitted to the real recordings' event density (docs/results.md).
FRAMING = {"shoulder_width": (0.185, 0.245), "neck_y": (0.48, 0.56), "off_centre": (-0.07, 0.07)}


@dataclass(frozen=True)
class BodyShape:
    """One person in one session: size, proportions and place in the frame.

    ``scale_px`` is the shoulder width in pixels and ``origin_px`` the neck base in pixels.
    Lengths are body units. ``rest_hand`` is where the right wrist hangs (the left one
    mirrored).
    """

    origin_px: tuple[float, float]
    scale_px: float
    upper_arm: float
    forearm: float
    hand_length: float
    arm_width: float
    forearm_width: float
    hand_width: float
    head_width: float
    head_height: float
    head_y: float
    rest_hand: tuple[float, float, float]
    camera_distance: float

    @classmethod
    def random(cls, rng: np.random.Generator, resolution: Resolution, size_scale: float = 1.0) -> BodyShape:
        width, height = resolution.width, resolution.height
        u = rng.random(13)  # fixed use of the stream
        side = min(width, height)
        draw = lambda key, k: FRAMING[key][0] + (FRAMING[key][1] - FRAMING[key][0]) * u[k]  # noqa: E731
        scale = side * draw("shoulder_width", 0) * size_scale
        origin = (width * (0.5 + draw("off_centre", 1)), height * draw("neck_y", 2))
        upper_arm = 0.72 + 0.10 * u[3]
        forearm = 0.62 + 0.10 * u[4]
        return cls(
            origin_px=(float(origin[0]), float(origin[1])),
            scale_px=float(scale),
            upper_arm=float(upper_arm),
            forearm=float(forearm),
            hand_length=float(0.42 + 0.08 * u[5]),
            arm_width=float(0.22 + 0.08 * u[6]),
            forearm_width=float(0.16 + 0.05 * u[7]),
            hand_width=float(0.19 + 0.05 * u[8]),
            head_width=float(0.40 + 0.07 * u[9]),
            head_height=float(0.54 + 0.08 * u[10]),
            head_y=float(-(0.52 + 0.08 * u[11])),
            # Arms hang slightly away from the hips, the wrist by the thigh.
            rest_hand=(-0.62, float(0.95 * (upper_arm + forearm)), 0.08),
            camera_distance=float(5.0 + 3.0 * u[12]),
        )

    @property
    def reach(self) -> float:
        """Shoulder to wrist, arm straight."""
        return self.upper_arm + self.forearm

    @property
    def head_xyz(self) -> np.ndarray:
        return np.array([0.0, self.head_y, 0.0])

    def rest_hands(self) -> tuple[np.ndarray, np.ndarray]:
        """Right and left wrist of the arms hanging still."""
        right = np.asarray(self.rest_hand)
        return right, right * np.array([-1.0, 1.0, 1.0])

    def project(self, xyz: np.ndarray) -> np.ndarray:
        """Body units ``[..., 3]`` -> ``[..., 3]``: pixel x, pixel y, and the magnification
        at that depth (1 at the body's plane), by which widths scale."""
        xyz = np.asarray(xyz, dtype=np.float64)
        magnification = self.camera_distance / (self.camera_distance - xyz[..., 2])
        pixels = np.asarray(self.origin_px) + self.scale_px * xyz[..., :2] * magnification[..., None]
        return np.concatenate([pixels, magnification[..., None]], axis=-1)

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        """Body-plane points (last axis x, y) -> pixel coordinates."""
        return np.asarray(self.origin_px) + self.scale_px * np.asarray(xy)


def elbow_from_hand(shoulder: np.ndarray, hand: np.ndarray, upper: float, lower: float,
                    pole: np.ndarray) -> np.ndarray:
    """Two-link inverse kinematics in 3-D, vectorised over leading axes.

    The elbow lies on the circle of points ``upper`` from the shoulder and ``lower`` from
    the wrist; of those it takes the one towards ``pole`` (a direction, e.g. down and out
    for a hanging arm, down and back for a clapping one). Wrists out of reach are pulled
    onto the reachable sphere (arm straight).
    """
    shoulder, hand = np.broadcast_arrays(np.asarray(shoulder, float), np.asarray(hand, float))
    delta = hand - shoulder
    dist = np.linalg.norm(delta, axis=-1, keepdims=True)
    reach = np.clip(dist, abs(upper - lower) + 1e-6, upper + lower - 1e-6)
    axis = delta / np.maximum(dist, 1e-9)
    along = (upper**2 - lower**2 + reach**2) / (2 * reach)
    radius = np.sqrt(np.maximum(upper**2 - along**2, 0.0))
    pole = np.broadcast_to(np.asarray(pole, float), axis.shape)
    side = pole - (pole * axis).sum(-1, keepdims=True) * axis
    norm = np.linalg.norm(side, axis=-1, keepdims=True)
    # A pole along the arm leaves the side open: any perpendicular will do.
    fallback = np.cross(axis, np.array([0.0, 0.0, 1.0]))
    side = np.where(norm > 1e-9, side / np.maximum(norm, 1e-12),
                    fallback / np.maximum(np.linalg.norm(fallback, axis=-1, keepdims=True), 1e-12))
    return shoulder + along * axis + radius * side


def reachable(shoulder: np.ndarray, hand: np.ndarray, reach: float) -> np.ndarray:
    """``hand`` pulled into the ball the arm can reach from ``shoulder`` (a straight arm)."""
    delta = hand - shoulder
    dist = np.linalg.norm(delta, axis=-1, keepdims=True)
    return shoulder + delta * np.minimum(1.0, 0.995 * reach / np.maximum(dist, 1e-9))
