"""Arm motion of the 11 DVS128 Gesture classes as functions of time.

Each motion maps ``tau`` (seconds since the gesture started, a 1-D array) to hand and elbow
positions in body units (see :mod:`live_snn.sim.body`: person's right = image left, y down).
"Clockwise" means clockwise **as seen by the camera**, i.e. on screen. A counter-clockwise
circle is the clockwise one played backwards (``tau -> duration - tau``), so the two differ
only in time order and a model that ignores time cannot tell them apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.sim.body import (
    HEAD_XY,
    L_SHOULDER_XY,
    R_SHOULDER_XY,
    BodyShape,
    elbow_from_hand,
)

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

# Typical repetition rate of each class, Hz (scaled per session and per gesture).
BASE_FREQ_HZ: dict[int, float] = {
    HAND_CLAP: 2.2,
    RIGHT_HAND_WAVE: 2.2,
    LEFT_HAND_WAVE: 2.2,
    RIGHT_ARM_CW: 1.1,
    RIGHT_ARM_CCW: 1.1,
    LEFT_ARM_CW: 1.1,
    LEFT_ARM_CCW: 1.1,
    ARM_ROLL: 1.8,
    AIR_DRUMS: 2.4,
    AIR_GUITAR: 3.2,
    OTHER: 1.0,
}

# Counter-clockwise classes are the clockwise motion with time reversed.
TIME_REVERSED_OF: dict[int, int] = {RIGHT_ARM_CCW: RIGHT_ARM_CW, LEFT_ARM_CCW: LEFT_ARM_CW}

N_EXTRA = 16  # uniform random numbers every gesture draws, used or not (fixed rng use)
RAMP_S = 0.25  # time to raise the arm from rest into the gesture (and back)


@dataclass(frozen=True, eq=False)
class GestureParams:
    """One performed gesture: class, when, and how (speed, size, phase, style)."""

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


@dataclass(frozen=True)
class ArmPose:
    """Hands and elbows over time, body units, each ``[N, 2]``."""

    r_hand: np.ndarray
    r_elbow: np.ndarray
    l_hand: np.ndarray
    l_elbow: np.ndarray


@dataclass(frozen=True)
class BodyPose:
    """Arms plus how the whole body (``torso``) and the head on top of it are displaced,
    body units, each ``[N, 2]``."""

    arms: ArmPose
    torso: np.ndarray
    head: np.ndarray


def envelope(tau: np.ndarray, duration_s: float) -> np.ndarray:
    """0 -> 1 smoothly over the first RAMP_S, 1 -> 0 over the last; symmetric in time, so a
    time-reversed gesture has the same envelope."""
    ramp = min(RAMP_S, duration_s / 4)
    rise = np.clip(tau / ramp, 0.0, 1.0)
    fall = np.clip((duration_s - tau) / ramp, 0.0, 1.0)
    smooth = lambda v: v * v * (3 - 2 * v)  # noqa: E731
    return smooth(rise) * smooth(fall)


def _column(values: np.ndarray) -> np.ndarray:
    return np.asarray(values)[:, None]


def _xy(x: np.ndarray | float, y: np.ndarray | float, n: int) -> np.ndarray:
    return np.stack([np.broadcast_to(x, (n,)), np.broadcast_to(y, (n,))], axis=-1).astype(np.float64)


def _arms(body: BodyShape, r_hand, l_hand, r_bend: float, l_bend: float) -> ArmPose:
    return ArmPose(
        r_hand=r_hand,
        r_elbow=elbow_from_hand(R_SHOULDER_XY, r_hand, body.upper_arm, body.forearm, r_bend),
        l_hand=l_hand,
        l_elbow=elbow_from_hand(L_SHOULDER_XY, l_hand, body.upper_arm, body.forearm, l_bend),
    )


def _clap(tau, p: GestureParams, body: BodyShape, rest: ArmPose) -> ArmPose:
    n = len(tau)
    centre = np.array([0.08 * (p.extra[0] - 0.5), 0.58 + 0.14 * (p.extra[1] - 0.5)])
    # |sin| closes the hands sharply and opens them softly, like a clap.
    gap = 0.07 + p.amplitude * 0.38 * np.abs(np.sin(np.pi * p.freq_hz * tau + p.phase))
    r_hand = centre + _xy(-gap, 0.0, n)
    l_hand = centre + _xy(gap, 0.0, n)
    return _arms(body, r_hand, l_hand, +1, -1)


def _wave(tau, p: GestureParams, body: BodyShape, rest: ArmPose, side: float) -> ArmPose:
    """Forearm up, swinging about a nearly fixed elbow. ``side`` = -1 right arm, +1 left."""
    n = len(tau)
    shoulder = R_SHOULDER_XY if side < 0 else L_SHOULDER_XY
    upper_dir = np.array([0.72 * side, 0.70 - 0.3 * p.extra[0]])
    upper_dir /= np.linalg.norm(upper_dir)
    swing = p.amplitude * 0.55 * np.sin(2 * np.pi * p.freq_hz * tau + p.phase)
    bob = 0.025 * np.sin(2 * np.pi * p.freq_hz * tau + p.phase - 0.6)
    elbow = shoulder + body.upper_arm * upper_dir + _xy(0.0, bob, n)
    lean = 0.25 * (p.extra[1] - 0.5)
    theta = lean + swing
    hand = elbow + body.forearm * np.stack([np.sin(theta) * -side, -np.cos(theta)], axis=-1)
    if side < 0:
        return ArmPose(r_hand=hand, r_elbow=elbow, l_hand=rest.l_hand, l_elbow=rest.l_elbow)
    return ArmPose(r_hand=rest.r_hand, r_elbow=rest.r_elbow, l_hand=hand, l_elbow=elbow)


def _circle(tau, p: GestureParams, body: BodyShape, rest: ArmPose, side: float) -> ArmPose:
    """Whole arm swung in a big clockwise (on screen) circle about the shoulder."""
    shoulder = R_SHOULDER_XY if side < 0 else L_SHOULDER_XY
    reach = body.upper_arm + body.forearm
    # Nearly straight arm; the circle leans outwards so the hand sweeps past the hip and
    # over the head rather than across the face.
    radius = min(0.82 * p.amplitude, 0.93) * reach
    centre = shoulder + np.array([(0.12 + 0.1 * p.extra[1]) * side, 0.04 * (p.extra[0] - 0.5)])
    # On screen with y down, a growing atan2 angle turns clockwise.
    angle = p.phase + 2 * np.pi * p.freq_hz * tau
    hand = centre + radius * np.stack([np.cos(angle), np.sin(angle)], axis=-1)
    elbow = elbow_from_hand(shoulder, hand, body.upper_arm, body.forearm, -side)
    if side < 0:
        return ArmPose(r_hand=hand, r_elbow=elbow, l_hand=rest.l_hand, l_elbow=rest.l_elbow)
    return ArmPose(r_hand=rest.r_hand, r_elbow=rest.r_elbow, l_hand=hand, l_elbow=elbow)


def _arm_roll(tau, p: GestureParams, body: BodyShape, rest: ArmPose) -> ArmPose:
    """Forearms rolling around each other in front of the chest."""
    n = len(tau)
    centre = np.array([0.06 * (p.extra[0] - 0.5), 0.55 + 0.12 * (p.extra[1] - 0.5)])
    radius = p.amplitude * 0.2
    angle = _column(p.phase + p.direction * 2 * np.pi * p.freq_hz * tau)
    circle = radius * np.concatenate([np.cos(angle), np.sin(angle)], axis=-1)
    r_hand = centre + _xy(-0.09, 0.0, n) + circle
    l_hand = centre + _xy(0.09, 0.0, n) - circle
    return _arms(body, r_hand, l_hand, +1, -1)


def _air_drums(tau, p: GestureParams, body: BodyShape, rest: ArmPose) -> ArmPose:
    """Hands alternately striking down at two drums in front of the belly."""
    n = len(tau)
    phase = 2 * np.pi * p.freq_hz * tau + p.phase
    # A second harmonic makes the down stroke faster than the lift.
    stroke = lambda x: np.sin(x) + 0.35 * np.sin(2 * x)  # noqa: E731
    height = 0.62 + 0.12 * (p.extra[0] - 0.5)
    spread = 0.40 + 0.10 * p.extra[1]
    r_hand = _xy(-spread + 0.03 * np.sin(phase), height + p.amplitude * 0.15 * stroke(phase), n)
    l_hand = _xy(spread - 0.03 * np.sin(phase), height + p.amplitude * 0.15 * stroke(phase + np.pi), n)
    return _arms(body, r_hand, l_hand, +1, -1)


def _air_guitar(tau, p: GestureParams, body: BodyShape, rest: ArmPose) -> ArmPose:
    """Right hand strumming at the belly, left hand fretting out to the side."""
    n = len(tau)
    strum = 2 * np.pi * p.freq_hz * tau + p.phase
    r_hand = _xy(
        -0.12 + 0.08 * (p.extra[0] - 0.5) + 0.04 * np.sin(strum),
        0.92 + p.amplitude * 0.17 * np.sin(strum),
        n,
    )
    slide = 0.10 * np.sin(2 * np.pi * p.freq_hz / 5 * tau + 6.28 * p.extra[1])
    wiggle = 0.015 * np.sin(2 * np.pi * 7.0 * tau)
    l_hand = _xy(0.88 + 0.9 * slide, 0.32 - 0.45 * slide + wiggle, n)
    return _arms(body, r_hand, l_hand, +1, +1)


def _other(tau, p: GestureParams, body: BodyShape, rest: ArmPose) -> ArmPose:
    """Motions outside the set: random smooth arm paths, or a hand scratching the head."""
    n = len(tau)
    u = p.extra
    variant = int(u[2] * 3)

    def wander(base: np.ndarray, offset: int) -> np.ndarray:
        path = np.broadcast_to(base, (n, 2)).copy()
        for k in range(2):  # two random sinusoids per axis
            freq = (0.4 + 1.2 * u[offset + k]) * p.freq_hz
            amp = (0.06 + 0.16 * u[offset + 2 + k]) * p.amplitude
            path[:, 0] += amp * np.sin(2 * np.pi * freq * tau + p.phase + 2.1 * k)
            path[:, 1] += amp * np.cos(2 * np.pi * freq * 0.8 * tau + p.phase + 1.3 * k)
        return path

    r_base = np.array([-0.55 + 0.4 * (u[3] - 0.5), 0.1 + 0.8 * u[4]])
    l_base = np.array([0.55 + 0.4 * (u[5] - 0.5), 0.1 + 0.8 * u[6]])
    if variant == 2:  # scratching the head with one hand
        side = -1.0 if u[7] < 0.5 else 1.0
        rub = 2 * np.pi * (3.0 + 2.0 * u[8]) * tau
        hand = HEAD_XY + np.array([0.28 * side, 0.02]) + _xy(0.03 * np.sin(rub), 0.04 * np.cos(1.3 * rub), n)
        elbow = elbow_from_hand(
            R_SHOULDER_XY if side < 0 else L_SHOULDER_XY, hand, body.upper_arm, body.forearm, side
        )
        if side < 0:
            return ArmPose(hand, elbow, rest.l_hand, rest.l_elbow)
        return ArmPose(rest.r_hand, rest.r_elbow, hand, elbow)
    r_hand = wander(r_base, 9)
    l_hand = wander(l_base, 11)
    # Elbows out and down when the hand is low, out and up when it is high.
    r_bend = 1.0 if r_base[1] > 0.3 else -1.0
    l_bend = -r_bend if l_base[1] > 0.3 else r_bend
    arms = _arms(body, r_hand, l_hand, r_bend, l_bend)
    if variant == 1:  # only one arm moves
        if u[7] < 0.5:
            return ArmPose(arms.r_hand, arms.r_elbow, rest.l_hand, rest.l_elbow)
        return ArmPose(rest.r_hand, rest.r_elbow, arms.l_hand, arms.l_elbow)
    return arms


Motion = Callable[[np.ndarray, GestureParams, BodyShape, ArmPose], ArmPose]

MOTIONS: dict[int, Motion] = {
    HAND_CLAP: _clap,
    RIGHT_HAND_WAVE: lambda t, p, b, r: _wave(t, p, b, r, -1.0),
    LEFT_HAND_WAVE: lambda t, p, b, r: _wave(t, p, b, r, +1.0),
    RIGHT_ARM_CW: lambda t, p, b, r: _circle(t, p, b, r, -1.0),
    LEFT_ARM_CW: lambda t, p, b, r: _circle(t, p, b, r, +1.0),
    ARM_ROLL: _arm_roll,
    AIR_DRUMS: _air_drums,
    AIR_GUITAR: _air_guitar,
    OTHER: _other,
}


# How much the torso gives way to the swinging arms, and how much more the head moves.
TORSO_RECOIL = 0.045
HEAD_EXTRA = 0.6


def gesture_pose(tau: np.ndarray, params: GestureParams, body: BodyShape, rest: ArmPose) -> BodyPose:
    """Pose of ``params``' gesture at ``tau`` seconds into it, blended with ``rest``
    through :func:`envelope` so the arms rise into and fall out of the gesture.

    The torso recoils against the arms (a small shift opposite to the hands' displacement
    from rest) and the head follows with some extra nodding, so the body outline fires
    too, as in real recordings. Both derive from the arm motion, so a time-reversed
    gesture reverses them as well.
    """
    tau = np.asarray(tau, dtype=np.float64)
    duration = params.duration_s
    label = params.label
    motion_tau = tau
    if label in TIME_REVERSED_OF:
        label = TIME_REVERSED_OF[label]
        motion_tau = duration - tau
    active = MOTIONS[label](motion_tau, params, body, rest)
    weight = _column(envelope(tau, duration))

    def blend(still: np.ndarray, moving: np.ndarray) -> np.ndarray:
        return still + weight * (moving - still)

    arms = ArmPose(
        r_hand=blend(rest.r_hand, active.r_hand),
        r_elbow=blend(rest.r_elbow, active.r_elbow),
        l_hand=blend(rest.l_hand, active.l_hand),
        l_elbow=blend(rest.l_elbow, active.l_elbow),
    )
    reach = (arms.r_hand - rest.r_hand) + (arms.l_hand - rest.l_hand)
    torso = -TORSO_RECOIL * reach * (0.6 + 0.8 * params.extra[N_EXTRA - 1])
    nod = 2 * np.pi * params.freq_hz * 0.5 * motion_tau + 6.28 * params.extra[N_EXTRA - 2]
    head = HEAD_EXTRA * torso + weight * 0.015 * np.stack([np.sin(nod), 0.5 * np.cos(nod)], axis=-1)
    return BodyPose(arms=arms, torso=torso, head=head)
