"""Rendering the scene: the room, then the person in one pose, as grey levels.

The wall and the torso are drawn once per session: the wall never moves, and the torso
layer (shirt, its pattern and shading) is only shifted by the body's sway with sub-pixel
interpolation. The head and the arms are drawn anew for each pose: limbs shaded like
cylinders (a lit middle, darker sides), sleeves with folds and the shirt's pattern moving
with them, hands with fingers. Everything is anti-aliased at sub-pixel precision and
slightly blurred as a lens would: a limb moving by a tenth of a pixel must change the
intensity a little, not jump a whole pixel every few frames, or the emulated DVS would
fire in bursts.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from live_snn.events import Resolution
from live_snn.sim.appearance import Look
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
GREY_PER_REFLECTANCE = 220.0  # grey level of a white surface; highlights go above it

# Torso outline in body units relative to the neck base (right half, mirrored): shoulders,
# armpits, waist and hips, continuing below the frame's bottom edge.
_TORSO_HALF = np.array([[0.12, -0.06], [0.42, -0.02], [0.56, 0.12], [0.53, 0.55], [0.45, 1.05],
                        [0.50, 1.60], [0.52, 2.60]])
_TORSO = np.concatenate([_TORSO_HALF, _TORSO_HALF[::-1] * [-1.0, 1.0]])


def _fixed(points: np.ndarray) -> np.ndarray:
    """Pixel coordinates -> OpenCV fixed point (``shift`` fractional bits)."""
    return np.round(np.asarray(points) * _ONE).astype(np.int32)


def _grey(reflectance: float) -> float:
    return float(min(255.0, reflectance * GREY_PER_REFLECTANCE))


class SceneRenderer:
    """Draws one person, in any pose, in front of their room (grey levels)."""

    def __init__(self, resolution: Resolution, body: BodyShape, look: Look) -> None:
        self.resolution = resolution
        self.body = body
        self.look = look
        height, width = resolution.height, resolution.width
        rng = np.random.default_rng(look.seed)
        self._wall = _make_wall(rng, width, height, look)
        self._torso, self._torso_mask = _make_torso(rng, width, height, body, look)
        self._canvas = np.empty((height, width), dtype=np.uint8)
        self._composite = np.empty((height, width), dtype=np.float32)
        self._image = np.empty((height, width), dtype=np.float32)
        self._moved = np.empty((height, width), dtype=np.float32)
        self._moved_mask = np.empty((height, width), dtype=np.float32)
        self._blur_sigma = 0.35 * max(width, height) / 128
        scale = body.scale_px
        self._widths = {
            "upper": max(1, int(round(body.arm_width * scale))),
            "fore": max(1, int(round(body.forearm_width * scale))),
            "finger": max(1, int(round(0.045 * scale))),
            "fold": max(1, int(round(0.03 * scale))),
        }
        shade = look.shading
        self._tones = {
            "sleeve": (_grey(look.sleeve * (1 - shade)), _grey(look.sleeve * (1 + shade))),
            "fore": (_grey(look.forearm * (1 - shade)), _grey(look.forearm * (1 + shade))),
            "skin": _grey(look.skin),
            "fold": _grey(look.sleeve * (1 - 2 * shade)),
            "stripe": _grey(look.sleeve * (1 - look.pattern_contrast)),
            "hair": _grey(look.hair),
            "feature": _grey(look.skin * 0.55),
        }
        self._striped_sleeves = look.shirt_pattern in ("stripes", "checks")
        # Creases along the limbs: where across the width (fraction) and how dark or light.
        self._crease_offsets = rng.uniform(-0.38, 0.38, 4)
        self._crease_shades = rng.uniform(0.6, 1.5, 4)

    def render(self, joints: np.ndarray) -> np.ndarray:
        """Grey levels (float32 [H, W]) of the scene for one pose ``[J, 3]`` (pixel x, y and
        magnification, as :meth:`GestureScript.pose_at` gives). The returned array is
        reused by the next call."""
        body = self.body
        # The torso layer follows the neck's displacement from where it was drawn.
        shift = joints[NECK, :2] - np.asarray(body.origin_px)
        matrix = np.array([[1.0, 0.0, shift[0]], [0.0, 1.0, shift[1]]], dtype=np.float32)
        size = self._torso.shape[::-1]
        cv2.warpAffine(self._torso, matrix, size, dst=self._moved, flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
        cv2.warpAffine(self._torso_mask, matrix, size, dst=self._moved_mask, flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
        composite = self._composite
        np.subtract(self._moved, self._wall, out=composite)
        composite *= self._moved_mask
        composite += self._wall
        canvas = self._canvas
        np.copyto(canvas, composite, casting="unsafe")

        self._draw_head(canvas, joints[:, :2])
        # The arm nearer the camera (larger magnification) is drawn last, over the other.
        arms = [(R_SHOULDER, R_ELBOW, R_HAND), (L_SHOULDER, L_ELBOW, L_HAND)]
        arms.sort(key=lambda arm: joints[arm[2], 2])
        for shoulder, elbow, hand in arms:
            self._draw_arm(canvas, joints[shoulder], joints[elbow], joints[hand])

        image = self._image
        np.copyto(image, canvas, casting="unsafe")
        cv2.GaussianBlur(image, (0, 0), self._blur_sigma, dst=image)
        return image

    # Per pose, geometry is a handful of 2-D points: plain floats, not small NumPy arrays,
    # whose per-call overhead would cost more than the drawing itself.

    def _draw_head(self, canvas: np.ndarray, joints: np.ndarray) -> None:
        body, tones, aa = self.body, self._tones, cv2.LINE_AA
        scale = body.scale_px
        hx, hy = float(joints[HEAD, 0]), float(joints[HEAD, 1])
        w, h = body.head_width * scale, body.head_height * scale
        cv2.line(canvas, _pt(joints[NECK, 0], joints[NECK, 1]), _pt(hx, hy), tones["skin"] * 0.9,
                 max(1, int(0.24 * scale)), aa, _SHIFT)
        cv2.ellipse(canvas, _pt(hx, hy - 0.06 * h), _axes(0.53 * w, 0.50 * h), 0, 0, 360, tones["hair"], -1, aa, _SHIFT)
        cv2.ellipse(canvas, _pt(hx, hy + 0.05 * h), _axes(0.45 * w, 0.45 * h), 0, 0, 360, tones["skin"], -1, aa, _SHIFT)
        # Eyes and mouth: small dark marks that make a turning head fire inside its outline.
        for dx, dy, ax in ((-0.2, 0.0, 0.09), (0.2, 0.0, 0.09), (0.0, 0.28, 0.14)):
            cv2.ellipse(canvas, _pt(hx + dx * w, hy + (dy + 0.05) * h), _axes(ax * w, 0.04 * h), 0, 0, 360,
                        tones["feature"], -1, aa, _SHIFT)

    def _draw_arm(self, canvas: np.ndarray, shoulder3: np.ndarray, elbow3: np.ndarray, wrist3: np.ndarray) -> None:
        """One arm from joints (pixel x, y, magnification): limbs nearer the camera are
        drawn wider."""
        body, look, tones = self.body, self.look, self._tones
        aa = cv2.LINE_AA
        sx, sy = float(shoulder3[0]), float(shoulder3[1])
        ex, ey = float(elbow3[0]), float(elbow3[1])
        wx, wy = float(wrist3[0]), float(wrist3[1])
        near = 0.5 * (float(elbow3[2]) + float(wrist3[2]))
        scale = body.scale_px * near
        widths = {key: max(1, int(round(value * near))) for key, value in self._widths.items()}
        fx, fy = _unit(wx - ex, wy - ey)
        upper_len = max(math.hypot(ex - sx, ey - sy), 1e-6)
        ux, uy = (ex - sx) / upper_len, (ey - sy) / upper_len
        # Under short sleeves, the sleeve ends half way down the upper arm.
        if look.long_sleeves:
            sleeve_end = (ex, ey)
        else:
            sleeve_end = (sx + 0.55 * upper_len * ux, sy + 0.55 * upper_len * uy)
        self._limb(canvas, (sx, sy), sleeve_end, widths["upper"], tones["sleeve"])
        if not look.long_sleeves:
            self._limb(canvas, sleeve_end, (ex, ey), max(1, int(widths["upper"] * 0.85)),
                       (tones["skin"] * 0.85, tones["skin"] * 1.1))
        self._limb(canvas, (ex, ey), (wx, wy), widths["fore"], tones["fore"])
        # Folds (and stripes) across the sleeve travel with the arm.
        half = body.arm_width * scale * 0.45
        marks = [0.35, 0.7] if look.long_sleeves else [0.3]
        if self._striped_sleeves:
            step = max(look.pattern_period * scale / upper_len, 0.08)
            end = 0.95 if look.long_sleeves else 0.5
            marks = [0.12 + k * step for k in range(int((end - 0.12) / step) + 1)]
        tone = tones["stripe"] if self._striped_sleeves else tones["fold"]
        for f in marks:
            mx, my = sx + f * upper_len * ux, sy + f * upper_len * uy
            cv2.line(canvas, _pt(mx + uy * half, my - ux * half), _pt(mx - uy * half, my + ux * half), tone,
                     widths["fold"], aa, _SHIFT)
        if look.long_sleeves:  # the cuff
            cx, cy = wx - 0.06 * scale * fx, wy - 0.06 * scale * fy
            half_f = body.forearm_width * scale * 0.5
            cv2.line(canvas, _pt(cx + fy * half_f, cy - fx * half_f), _pt(cx - fy * half_f, cy + fx * half_f), tone,
                     widths["fold"], aa, _SHIFT)
        self._draw_hand(canvas, (wx, wy), (fx, fy), float(wrist3[2]))

    def _limb(self, canvas, a: tuple[float, float], b: tuple[float, float], width: int,
              tones: tuple[float, float]) -> None:
        """A shaded cylinder: the whole width in the side tone, the middle lit, and creases
        running along it (fabric, or the skin's shading), so a limb moving sideways fires
        across its whole width, not only at its outline."""
        pa, pb = _pt(*a), _pt(*b)
        cv2.line(canvas, pa, pb, tones[0], width, cv2.LINE_AA, _SHIFT)
        cv2.line(canvas, pa, pb, tones[1], max(1, int(width * 0.45)), cv2.LINE_AA, _SHIFT)
        if width < 3:
            return
        nx, ny = _unit(a[1] - b[1], b[0] - a[0])  # across the limb
        for offset, shade in zip(self._crease_offsets, self._crease_shades, strict=True):
            dx, dy = nx * offset * width, ny * offset * width
            cv2.line(canvas, _pt(a[0] + dx, a[1] + dy), _pt(b[0] + dx, b[1] + dy), tones[0] * shade, 1,
                     cv2.LINE_AA, _SHIFT)

    def _draw_hand(self, canvas: np.ndarray, wrist: tuple[float, float], direction: tuple[float, float],
                   near: float) -> None:
        body, tones = self.body, self._tones
        scale = body.scale_px * near
        length = body.hand_length * scale
        dx, dy = direction
        nx, ny = -dy, dx  # across the hand
        px, py = wrist[0] + 0.35 * length * dx, wrist[1] + 0.35 * length * dy
        radius = 0.5 * body.hand_width * scale
        cv2.circle(canvas, _pt(px, py), int(radius * _ONE), tones["skin"], -1, cv2.LINE_AA, _SHIFT)
        # Four fingers fanning out and a thumb: fine detail that fires as the hand turns.
        finger = max(1, int(round(self._widths["finger"] * near)))
        for k, spread in enumerate((-0.28, -0.09, 0.09, 0.28)):
            bx, by = px + (k - 1.5) * 0.22 * radius * nx, py + (k - 1.5) * 0.22 * radius * ny
            c, s = math.cos(spread * 0.6), math.sin(spread * 0.6)
            tx, ty = bx + 0.55 * length * (dx * c + nx * s), by + 0.55 * length * (dy * c + ny * s)
            cv2.line(canvas, _pt(bx, by), _pt(tx, ty), tones["skin"], finger, cv2.LINE_AA, _SHIFT)
        bx, by = px - 0.8 * radius * nx, py - 0.8 * radius * ny
        tx, ty = bx + 0.35 * length * (0.5 * dx - 0.86 * nx), by + 0.35 * length * (0.5 * dy - 0.86 * ny)
        cv2.line(canvas, _pt(bx, by), _pt(tx, ty), tones["skin"], finger, cv2.LINE_AA, _SHIFT)


def _pt(x: float, y: float) -> tuple[int, int]:
    """A pixel position in OpenCV's fixed point (``shift`` fractional bits)."""
    return int(round(x * _ONE)), int(round(y * _ONE))


def _unit(x: float, y: float) -> tuple[float, float]:
    norm = max(math.hypot(x, y), 1e-6)
    return x / norm, y / norm


def _axes(a: float, b: float) -> tuple[int, int]:
    return int(a * _ONE), int(b * _ONE)


def _smooth_noise(rng: np.random.Generator, width: int, height: int, sigma: float) -> np.ndarray:
    """Zero-mean, unit-spread smooth random texture."""
    field = rng.standard_normal((height, width)).astype(np.float32)
    cv2.GaussianBlur(field, (0, 0), sigma, dst=field)
    return field / max(float(field.std()), 1e-6)


def _make_wall(rng: np.random.Generator, width: int, height: int, look: Look) -> np.ndarray:
    """A static room: the wall's shading, a few posters, frames and pieces of furniture,
    and fine texture. It never moves, so it fires only where a moving arm uncovers it."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    level = _grey(look.wall)
    tilt = rng.uniform(-0.2, 0.2, 2)
    wall = level * (1 + tilt[0] * (xs / width - 0.5) + tilt[1] * (ys / height - 0.5))
    wall *= 1 + 0.04 * _smooth_noise(rng, width, height, 6.0 * width / 128)
    canvas = np.clip(wall, 2, 250).astype(np.uint8)
    for _ in range(int(rng.integers(2, 7))):  # posters, a door, a shelf, a window
        x0, y0 = rng.uniform(-0.1, 1.0) * width, rng.uniform(-0.1, 0.9) * height
        w, h = rng.uniform(0.06, 0.4) * width, rng.uniform(0.05, 0.5) * height
        tone = level * (1 + look.wall_detail * rng.uniform(-1.0, 1.0))
        pts = _fixed(np.array([[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]]))
        if rng.random() < 0.6:
            cv2.fillPoly(canvas, [pts], float(np.clip(tone, 2, 250)), cv2.LINE_AA, _SHIFT)
        else:
            thickness = int(rng.integers(1, 3))
            cv2.polylines(canvas, [pts], True, float(np.clip(tone, 2, 250)), thickness, cv2.LINE_AA, _SHIFT)
    fine = 1 + 0.05 * look.wall_detail * _smooth_noise(rng, width, height, 0.8)
    return (canvas.astype(np.float32) * fine).clip(1, 255)


def _make_torso(rng: np.random.Generator, width: int, height: int, body: BodyShape,
                look: Look) -> tuple[np.ndarray, np.ndarray]:
    """The torso layer (grey levels) and its coverage mask (0..1), at the rest position."""
    scale = body.scale_px
    origin = np.asarray(body.origin_px)
    mask8 = np.zeros((height, width), np.uint8)
    outline = _fixed(origin + scale * _TORSO)
    cv2.fillPoly(mask8, [outline], 255, cv2.LINE_AA, _SHIFT)
    mask = mask8.astype(np.float32) / 255.0

    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = (xs - origin[0]) / scale, (ys - origin[1]) / scale  # body units
    # Lit front, darker flanks: the chest is rounder than a board.
    tone = _grey(look.shirt) * (1 + look.shading * (1 - 2 * np.clip(np.abs(u) / 0.55, 0, 1) ** 2))
    period = look.pattern_period
    contrast = look.pattern_contrast
    if look.shirt_pattern == "stripes":
        tone *= 1 - contrast * (np.sin(2 * np.pi * v / period) > 0)
    elif look.shirt_pattern == "vertical stripes":
        tone *= 1 - contrast * (np.sin(2 * np.pi * u / period) > 0)
    elif look.shirt_pattern == "checks":
        tone *= 1 - 0.5 * contrast * ((np.sin(2 * np.pi * v / period) > 0).astype(np.float32)
                                      + (np.sin(2 * np.pi * u / period) > 0))
    elif look.shirt_pattern == "print":
        tone *= 1 - contrast * (_smooth_noise(rng, width, height, 0.1 * scale) > 0.8)
    # Creases of the shirt.
    canvas = tone.astype(np.float32)
    for _ in range(5):
        a = origin + scale * np.array([rng.uniform(-0.4, 0.4), rng.uniform(0.15, 1.4)])
        b = a + scale * np.array([rng.uniform(-0.2, 0.2), rng.uniform(0.1, 0.4)])
        cv2.line(canvas, tuple(a.astype(int).tolist()), tuple(b.astype(int).tolist()),
                 _grey(look.shirt * rng.uniform(0.6, 0.85)), max(1, int(0.04 * scale)))
    cv2.GaussianBlur(canvas, (0, 0), 0.4, dst=canvas)
    return canvas.clip(1, 255).astype(np.float32), mask
