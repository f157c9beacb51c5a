"""Draw the person into a grey-level image with OpenCV, one instant at a time.

Shapes are drawn anti-aliased with sub-pixel coordinates (``shift``) into an 8-bit canvas
(OpenCV anti-aliases 8-bit images only), then blurred slightly as a lens would. Sub-pixel
drawing matters: a limb moving by a tenth of a pixel must change the intensity a little,
not jump a whole pixel every few frames, or the emulated DVS would fire in bursts.
"""

from __future__ import annotations

import cv2
import numpy as np

from live_snn.events import Resolution
from live_snn.sim.body import (
    HEAD,
    L_ELBOW,
    L_HAND,
    L_SHOULDER,
    NECK,
    R_ELBOW,
    R_HAND,
    R_SHOULDER,
    BodyShape,
)

_SHIFT = 4  # fractional bits of the drawing coordinates
_ONE = 1 << _SHIFT

# Torso outline in body units relative to the neck base (right half mirrored).
_TORSO_HALF = np.array([[0.10, -0.02], [0.46, 0.0], [0.58, 0.10], [0.56, 0.45], [0.46, 1.10], [0.50, 1.90]])
_TORSO = np.concatenate([_TORSO_HALF, _TORSO_HALF[::-1] * [-1.0, 1.0]])


def _fixed(points: np.ndarray) -> np.ndarray:
    """Pixel coordinates -> OpenCV fixed point (``shift`` fractional bits)."""
    return np.round(np.asarray(points) * _ONE).astype(np.int32)


class SceneRenderer:
    """Draws one body, in any pose, over its static background (grey levels)."""

    def __init__(self, resolution: Resolution, body: BodyShape, rng: np.random.Generator) -> None:
        self.resolution = resolution
        self.body = body
        height, width = resolution.height, resolution.width
        self._background = self._make_background(rng, width, height, body.background)
        self._canvas = np.empty((height, width), dtype=np.uint8)
        self._image = np.empty((height, width), dtype=np.float32)
        self._blur_sigma = 0.6 * max(width, height) / 128
        scale = body.scale_px
        self._folds = np.array([[[x0, y0], [x1, y1]] for x0, y0, x1, y1, _ in body.folds]).reshape(-1, 2, 2)
        self._fold_shades = [min(body.shirt * shade, 255) for *_, shade in body.folds]
        self._fold_px = max(1, int(round(0.04 * scale)))
        self._arm_px = max(1, int(round(body.arm_width * scale)))
        self._forearm_px = max(1, int(round(0.85 * body.arm_width * scale)))
        self._hand_radius = int(body.hand_radius * scale * _ONE)
        self._sleeve = min(body.shirt * 1.08, 255)
        self._ridge = min(body.skin * 1.08, 255)

    @staticmethod
    def _make_background(rng: np.random.Generator, width: int, height: int, level: float) -> np.ndarray:
        """A static wall: a smooth shading gradient and a couple of faint vertical edges.
        It never moves, so it only shows up through sensor noise, as on a real DVS."""
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        tilt = rng.uniform(-0.25, 0.25, 2)
        wall = level * (1 + tilt[0] * (xs / width - 0.5) + tilt[1] * (ys / height - 0.5))
        for _ in range(2):
            edge = rng.uniform(0.05, 0.95) * width
            wall += rng.uniform(-12, 12) * (xs > edge)
        return np.clip(wall, 5, 250).astype(np.uint8)

    def render(self, joints: np.ndarray) -> np.ndarray:
        """Grey levels (float32 [H, W], 0..255) of the scene for one pose ``[J, 2]`` (px).
        The returned array is reused by the next call."""
        body = self.body
        canvas = self._canvas
        np.copyto(canvas, self._background)
        scale = body.scale_px
        aa = cv2.LINE_AA
        neck = joints[NECK]
        size = body.head_size * scale
        # All points of this frame in fixed point at once, as plain ints for OpenCV.
        anchors = np.concatenate([
            joints,
            neck + scale * np.array([[0.0, 0.55]]),  # chest highlight
            joints[HEAD] + np.array([[0.0, -0.07 * size], [0.0, 0.03 * size]]),  # hair, face
        ])
        points = [tuple(p) for p in _fixed(anchors).tolist()]
        chest, hair, face = points[len(joints):]

        cv2.fillPoly(canvas, [_fixed(neck + scale * _TORSO)], body.shirt, aa, _SHIFT)
        # Simple shading: the chest catches more light than the flanks.
        cv2.ellipse(canvas, chest, self._axes(0.34 * scale, 0.42 * scale), 0, 0, 360,
                    min(body.shirt * 1.15, 255), -1, aa, _SHIFT)
        if self._folds.size:
            folds = _fixed(neck + scale * self._folds).tolist()
            for (start, end), shade in zip(folds, self._fold_shades, strict=True):
                cv2.line(canvas, tuple(start), tuple(end), shade, self._fold_px, aa, _SHIFT)

        cv2.line(canvas, points[NECK], points[HEAD], body.skin * 0.85, max(1, int(0.22 * scale)), aa, _SHIFT)
        cv2.ellipse(canvas, hair, self._axes(0.28 * size, 0.31 * size), 0, 0, 360, body.hair, -1, aa, _SHIFT)
        cv2.ellipse(canvas, face, self._axes(0.23 * size, 0.29 * size), 0, 0, 360, body.skin, -1, aa, _SHIFT)

        for shoulder, elbow, hand in ((R_SHOULDER, R_ELBOW, R_HAND), (L_SHOULDER, L_ELBOW, L_HAND)):
            s, e, h = points[shoulder], points[elbow], points[hand]
            cv2.line(canvas, s, e, self._sleeve, self._arm_px, aa, _SHIFT)
            cv2.line(canvas, e, h, body.skin * 0.9, self._forearm_px, aa, _SHIFT)
            # A lit ridge along the forearm gives the limb inner texture (inner events).
            cv2.line(canvas, e, h, self._ridge, max(1, self._forearm_px // 3), aa, _SHIFT)
            cv2.circle(canvas, h, self._hand_radius, body.skin, -1, aa, _SHIFT)

        image = self._image
        np.copyto(image, canvas, casting="unsafe")
        cv2.GaussianBlur(image, (0, 0), self._blur_sigma, dst=image)
        return image

    @staticmethod
    def _axes(a: float, b: float) -> tuple[int, int]:
        return int(a * _ONE), int(b * _ONE)
