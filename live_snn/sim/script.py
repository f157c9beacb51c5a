"""The timeline of a simulated session: rest, gesture, rest, gesture, ... and the pose of the
person at any instant.

The timeline is drawn lazily from one random stream, one gesture at a time, so an endless
live session and a finite session of the same seed agree on everything they share.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.events import LabelSegment, LabelTrack
from live_snn.sim.body import (
    HEAD,
    JOINTS,
    L_ELBOW,
    L_HAND,
    L_SHOULDER,
    L_SHOULDER_XYZ,
    NECK,
    R_ELBOW,
    R_HAND,
    R_SHOULDER,
    R_SHOULDER_XYZ,
    BodyShape,
    elbow_from_hand,
)
from live_snn.sim.config import SimConfig
from live_snn.sim.gesture_styles import BASE_FREQ_HZ, N_EXTRA, GestureParams
from live_snn.sim.gestures import ArmPose, gesture_pose


@dataclass(frozen=True)
class SessionStyle:
    """How this person moves in this session: overall tempo and size of motions, and how
    restless they are between gestures."""

    speed: float
    amplitude: float
    fidget: float  # size of the idle drift of the hands, body units
    sway: float  # size of the slow sway of the whole body, body units
    sway_phase: np.ndarray  # 2 phases of the slow body sway
    idle_phase: np.ndarray  # 4 phases of the idle hand drift

    @classmethod
    def random(cls, rng: np.random.Generator, speed_scale: float = 1.0) -> SessionStyle:
        u = rng.random(4)
        return cls(
            speed=float((0.75 + 0.55 * u[0]) * speed_scale),
            amplitude=float(0.85 + 0.30 * u[1]),
            fidget=float(0.01 + 0.03 * u[2]),
            sway=float(0.004 + 0.012 * u[3]),
            sway_phase=rng.uniform(0, 2 * np.pi, 2),
            idle_phase=rng.uniform(0, 2 * np.pi, 4),
        )


class GestureScript:
    """Rest and gesture intervals with their parameters, extended on demand.

    ``classes`` restricts which gestures are drawn (0-based indices); ``max_gestures`` ends
    the session after that many gestures and one closing rest. Times are µs.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        config: SimConfig,
        body: BodyShape,
        style: SessionStyle,
        *,
        classes: Sequence[int] | None = None,
        max_gestures: int | None = None,
    ) -> None:
        pool = tuple(range(len(DVS_GESTURE_CLASSES))) if classes is None else tuple(classes)
        if not pool:
            raise ValueError("classes must name at least one gesture class")
        for label in pool:
            if not 0 <= label < len(DVS_GESTURE_CLASSES):
                raise ValueError(
                    f"gesture class index {label} out of range 0..{len(DVS_GESTURE_CLASSES) - 1}"
                )
        self._rng = rng
        self._config = config
        self.body = body
        self.style = style
        self._pool = pool
        self._max_gestures = max_gestures
        self.gestures: list[GestureParams] = []
        self._starts: list[int] = []  # start of each gesture, for bisection
        # End of the drawn timeline: the start of the next gesture still to draw.
        self._next_start_us = config.t0_us + self._draw_rest_us()
        self.end_us: int | None = None  # set once max_gestures have been drawn

    def _draw_rest_us(self) -> int:
        return int(round(self._rng.uniform(*self._config.rest_s) * 1e6))

    def _draw_gesture(self) -> None:
        rng = self._rng
        label = self._pool[int(rng.integers(len(self._pool)))]
        duration_us = int(round(rng.uniform(*self._config.gesture_s) * 1e6))
        start = self._next_start_us
        self._add_gesture(label, start, start + duration_us)
        self._next_start_us = start + duration_us + self._draw_rest_us()
        if self._max_gestures is not None and len(self.gestures) >= self._max_gestures:
            self.end_us = self._next_start_us

    def _add_gesture(self, label: int, start_us: int, end_us: int) -> GestureParams:
        """One gesture of class ``label`` over ``[start_us, end_us)``, its tempo, size,
        phase and style drawn from the script's generator (always the same draws, in order)."""
        rng = self._rng
        freq = BASE_FREQ_HZ[label] * self.style.speed * rng.uniform(0.85, 1.2)
        amplitude = self.style.amplitude * rng.uniform(0.85, 1.15)
        phase = rng.uniform(0, 2 * np.pi)
        direction = 1.0 if rng.random() < 0.5 else -1.0
        extra = rng.random(N_EXTRA)
        gesture = GestureParams(label, int(start_us), int(end_us), freq, amplitude, phase,
                                direction, extra)
        self.gestures.append(gesture)
        self._starts.append(gesture.start_us)
        return gesture

    def extend_to(self, t_us: int) -> None:
        """Draw gestures until the timeline covers ``t_us`` (or the session has ended)."""
        while self.end_us is None and self._next_start_us <= t_us:
            self._draw_gesture()

    def fit_duration(self, duration_us: int) -> None:
        """End the session at ``t0 + duration``, keeping only gestures that fit wholly."""
        end = self._config.t0_us + duration_us
        while self.end_us is None and self._next_start_us < end:
            self._draw_gesture()
        self.gestures = [g for g in self.gestures if g.end_us <= end]
        self._starts = [g.start_us for g in self.gestures]
        self.end_us = end

    def label_track(self, until_us: int | None = None) -> LabelTrack:
        """Label segments of the gestures begun before ``until_us`` (all if None)."""
        segments = tuple(
            LabelSegment(g.label, g.start_us, g.end_us)
            for g in self.gestures
            if until_us is None or g.start_us < until_us
        )
        return LabelTrack(segments, DVS_GESTURE_CLASSES)

    # -- pose -------------------------------------------------------------------------

    def _rest_arms(self, t_s: np.ndarray, idle_weight: np.ndarray) -> ArmPose:
        """Arms hanging, drifting a little while nobody gestures (``idle_weight`` 0..1)."""
        phase = self.style.idle_phase
        drift = self.style.fidget * idle_weight[:, None] * np.stack(
            [
                np.sin(2 * np.pi * 0.31 * t_s + phase[0]),
                np.sin(2 * np.pi * 0.23 * t_s + phase[1]),
                np.sin(2 * np.pi * 0.27 * t_s + phase[2]),
                np.sin(2 * np.pi * 0.19 * t_s + phase[3]),
            ],
            axis=-1,
        )
        r_rest, l_rest = self.body.rest_hands()
        flat = np.zeros((len(t_s), 1))
        r_hand = r_rest + np.concatenate([drift[:, 0:2], flat], axis=-1)
        l_hand = l_rest + np.concatenate([drift[:, 2:4], flat], axis=-1)
        body = self.body
        # Hanging arms: the elbows point out and back.
        return ArmPose(
            r_hand=r_hand,
            r_elbow=elbow_from_hand(R_SHOULDER_XYZ, r_hand, body.upper_arm, body.forearm, [-0.4, 0.0, -1.0]),
            l_hand=l_hand,
            l_elbow=elbow_from_hand(L_SHOULDER_XYZ, l_hand, body.upper_arm, body.forearm, [0.4, 0.0, -1.0]),
        )

    def _gestures_near(self, lo_us: int, hi_us: int) -> list[GestureParams]:
        """Gestures overlapping [lo, hi] plus the last one before and the first one after."""
        first = max(bisect_right(self._starts, lo_us) - 2, 0)
        last = bisect_right(self._starts, hi_us) + 1
        return self.gestures[first:last]

    def _idle_weight(self, t_us: np.ndarray, nearby: list[GestureParams]) -> np.ndarray:
        """1 in the middle of a rest, falling to 0 at its ends, 0 during gestures: idle
        drift never leaks into a gesture, so clockwise and counter-clockwise gestures stay
        exact time mirrors of each other."""
        weight = np.ones(t_us.shape)
        bounds = [self._config.t0_us]
        for g in nearby:
            inside = (t_us >= g.start_us) & (t_us < g.end_us)
            weight[inside] = 0.0
            bounds += [g.start_us, g.end_us]
        bounds.append(self.end_us if self.end_us is not None else self._next_start_us)
        edges = np.asarray(bounds, dtype=np.float64)
        # Distance (s) to the nearest gesture boundary, ramped over 0.2 s.
        gap = np.min(np.abs(t_us[:, None].astype(np.float64) - edges[None, :]), axis=1) / 1e6
        return weight * np.clip(gap / 0.2, 0.0, 1.0)

    def pose_at(self, t_us: np.ndarray) -> np.ndarray:
        """Joints seen by the camera for times ``t_us``: ``[N, len(JOINTS), 3]`` float64,
        pixel x, pixel y and the magnification at the joint's depth."""
        t_us = np.atleast_1d(np.asarray(t_us, dtype=np.int64))
        if t_us.size:
            self.extend_to(int(t_us.max()))
        t_s = (t_us - self._config.t0_us) / 1e6
        lo, hi = (int(t_us.min()), int(t_us.max())) if t_us.size else (0, -1)
        nearby = self._gestures_near(lo, hi)
        arms = self._rest_arms(t_s, self._idle_weight(t_us, nearby))
        r_hand, r_elbow = arms.r_hand.copy(), arms.r_elbow.copy()
        l_hand, l_elbow = arms.l_hand.copy(), arms.l_elbow.copy()
        torso = np.zeros((t_us.size, 3))
        head = np.zeros((t_us.size, 3))
        for g in nearby:  # a handful of gestures per call, never per event
            inside = (t_us >= g.start_us) & (t_us < g.end_us)
            if not inside.any():
                continue
            rest = ArmPose(r_hand[inside], r_elbow[inside], l_hand[inside], l_elbow[inside])
            moved = gesture_pose((t_us[inside] - g.start_us) / 1e6, g, self.body, rest)
            r_hand[inside], r_elbow[inside] = moved.arms.r_hand, moved.arms.r_elbow
            l_hand[inside], l_elbow[inside] = moved.arms.l_hand, moved.arms.l_elbow
            torso[inside], head[inside] = moved.torso, moved.head

        joints = np.empty((t_us.size, len(JOINTS), 3))
        joints[:, HEAD] = self.body.head_xyz + head
        joints[:, NECK] = 0.0
        joints[:, R_SHOULDER] = R_SHOULDER_XYZ
        joints[:, L_SHOULDER] = L_SHOULDER_XYZ
        joints[:, R_ELBOW], joints[:, R_HAND] = r_elbow, r_hand
        joints[:, L_ELBOW], joints[:, L_HAND] = l_elbow, l_hand
        # A person never stands perfectly still: slow sway of the whole body.
        sway = self.style.sway_phase
        torso[:, 0] += self.style.sway * np.sin(2 * np.pi * 0.13 * t_s + sway[0])
        torso[:, 1] += 0.5 * self.style.sway * np.sin(2 * np.pi * 0.17 * t_s + sway[1])
        joints += torso[:, None, :]
        return self.body.project(joints)
