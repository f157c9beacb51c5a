"""Arm motion of the 11 DVS128 Gesture classes as functions of time, as people perform them.

Each motion maps ``tau`` (seconds since the gesture started, a 1-D array) to wrist and
elbow positions in body units (see :mod:`live_snn.sim.body`: person's right = image left,
y down). People are not metronomes: every rhythm drifts in tempo and size from cycle to
cycle (:func:`wobble`), and each gesture has its own centre, reach and style drawn from
``GestureParams.extra``.

Clockwise: DVS128 Gesture names the turning sense as the **subject** sees it, facing the
camera, i.e. mirrored on screen: "right arm clockwise" turns counter-clockwise in the
image (y down). :data:`CLOCKWISE_ON_SCREEN` holds that choice; the network trained on
real DVS128 Gesture agrees with it and not with the other (docs/results.md). A
counter-clockwise circle is the clockwise one played backwards (``tau -> duration - tau``),
so the two differ only in time order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from live_snn.sim.body import L_SHOULDER_XYZ, R_SHOULDER_XYZ, BodyShape, elbow_from_hand, reachable
from live_snn.sim.gesture_styles import (
    AIR_DRUMS,
    AIR_GUITAR,
    ARM_ROLL,
    HAND_CLAP,
    LEFT_ARM_CCW,
    LEFT_ARM_CW,
    LEFT_HAND_WAVE,
    N_STYLE,
    OTHER,
    RIGHT_ARM_CCW,
    RIGHT_ARM_CW,
    RIGHT_HAND_WAVE,
    GestureParams,
    Style,
)

# Whether the classes called clockwise turn clockwise on screen (as the camera sees them).
CLOCKWISE_ON_SCREEN = False

# Counter-clockwise classes are the clockwise motion with time reversed.
TIME_REVERSED_OF: dict[int, int] = {RIGHT_ARM_CCW: RIGHT_ARM_CW, LEFT_ARM_CCW: LEFT_ARM_CW}

RAMP_S = 0.35  # time to raise the arms from rest into the gesture (and to lower them)


@dataclass(frozen=True)
class ArmPose:
    """Wrists and elbows over time, body units, each ``[N, 3]``."""

    r_hand: np.ndarray
    r_elbow: np.ndarray
    l_hand: np.ndarray
    l_elbow: np.ndarray


@dataclass(frozen=True)
class BodyPose:
    """Arms plus how the whole body (``torso``) and the head on top of it are displaced,
    body units, each ``[N, 3]``."""

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


def wobble(tau: np.ndarray, u: np.ndarray, rate_hz: float = 0.5) -> np.ndarray:
    """A smooth random signal of about unit size: two slow sinusoids whose frequencies and
    phases come from the three numbers ``u``. Used for the drift of tempo and size."""
    f1, f2 = rate_hz * (0.6 + 0.8 * u[0]), rate_hz * (1.3 + 1.2 * u[1])
    return 0.8 * np.sin(2 * np.pi * f1 * tau + 6.28 * u[2]) + 0.5 * np.sin(2 * np.pi * f2 * tau + 2.1 + 6.28 * u[0])


def rhythm(tau: np.ndarray, p: GestureParams, freq_hz: float | None = None, drift: float = 0.5) -> np.ndarray:
    """Phase (rad) of a repeated motion whose tempo drifts: ``drift`` rad of wandering."""
    freq = p.freq_hz if freq_hz is None else freq_hz
    return 2 * np.pi * freq * tau + p.phase + drift * wobble(tau, p.extra[N_STYLE:N_STYLE + 3], 0.4)


def _size(tau: np.ndarray, p: GestureParams, spread: float = 0.12) -> np.ndarray:
    """Size of each cycle: the gesture's amplitude, wandering by about ``spread``."""
    return p.amplitude * (1.0 + spread * wobble(tau, p.extra[N_STYLE + 3:N_STYLE + 6], 0.6))


def _xyz(x, y, z, n: int) -> np.ndarray:
    return np.stack([np.broadcast_to(np.asarray(v, float), (n,)) for v in (x, y, z)], axis=-1)


def _shoulder(side: float) -> np.ndarray:
    return R_SHOULDER_XYZ if side < 0 else L_SHOULDER_XYZ


def _pole(side: float, out: float, down: float, back: float) -> np.ndarray:
    """Where an elbow points: ``out`` to the arm's own side, ``down``, and ``back``."""
    return np.array([side * out, down, -back])


# Elbows of hands working in front of the body point down, out and back.
FRONT_POLE = (0.6, 1.0, 0.4)


def _arms(body: BodyShape, r_hand, l_hand, r_pole=FRONT_POLE, l_pole=FRONT_POLE) -> ArmPose:
    r_hand = reachable(R_SHOULDER_XYZ, r_hand, body.reach)
    l_hand = reachable(L_SHOULDER_XYZ, l_hand, body.reach)
    return ArmPose(
        r_hand=r_hand,
        r_elbow=elbow_from_hand(R_SHOULDER_XYZ, r_hand, body.upper_arm, body.forearm, _pole(-1, *r_pole)),
        l_hand=l_hand,
        l_elbow=elbow_from_hand(L_SHOULDER_XYZ, l_hand, body.upper_arm, body.forearm, _pole(+1, *l_pole)),
    )


def _one_arm(side: float, hand: np.ndarray, elbow: np.ndarray, rest: ArmPose) -> ArmPose:
    if side < 0:
        return ArmPose(r_hand=hand, r_elbow=elbow, l_hand=rest.l_hand, l_elbow=rest.l_elbow)
    return ArmPose(r_hand=rest.r_hand, r_elbow=rest.r_elbow, l_hand=hand, l_elbow=elbow)


def _clap(tau, p: GestureParams, body: BodyShape, rest: ArmPose) -> ArmPose:
    """Hands meeting in front of the chest, forearms pointing at the camera: a quick close,
    a short touch, a softer open."""
    style = Style(p, HAND_CLAP)
    centre = np.array([style["x"], style["height"], style["depth"]])
    beat = rhythm(tau, p, drift=0.4)
    opening = np.abs(np.sin(beat / 2)) ** style["sharpness"]  # one clap per cycle
    size = _size(tau, p)
    gap = 0.03 + size * style["open"] * opening
    lift = style["lift"] * opening * size  # hands open slightly upwards and back
    r_hand = centre + np.stack([-gap, -lift, -0.5 * lift], axis=-1)
    l_hand = centre + np.stack([gap, -lift, -0.5 * lift], axis=-1)
    return _arms(body, r_hand, l_hand)


def _wave(tau, p: GestureParams, body: BodyShape, rest: ArmPose, side: float) -> ArmPose:
    """Forearm raised, swinging side to side about a nearly still elbow. ``side`` = -1
    for the right arm (image left), +1 for the left."""
    n = len(tau)
    style = Style(p, RIGHT_HAND_WAVE)
    # Upper arm out to the side and down, a little forward.
    drop, forward = np.radians(style["drop_deg"]), np.radians(style["forward_deg"])
    upper_dir = np.array([side * np.cos(drop) * np.cos(forward), np.sin(drop), np.cos(drop) * np.sin(forward)])
    beat = rhythm(tau, p, drift=0.5)
    elbow = _shoulder(side) + body.upper_arm * upper_dir + _xyz(0.03 * np.sin(beat + 1.0), 0.02 * np.sin(beat), 0.0, n)
    # The forearm leans out (+) or in across the face, and swings about that.
    theta = np.radians(style["lean_deg"]) * side + _size(tau, p) * np.radians(style["swing_deg"]) * np.sin(beat)
    hand = elbow + body.forearm * np.stack([np.sin(theta), -np.cos(theta), np.full(n, 0.15)], axis=-1)
    return _one_arm(side, hand, elbow, rest)


def _circle(tau, p: GestureParams, body: BodyShape, rest: ArmPose, side: float) -> ArmPose:
    """The whole arm swung in a big circle beside the body, clockwise as the subject sees
    it (see :data:`CLOCKWISE_ON_SCREEN`); the elbow gives a little at the bottom."""
    n = len(tau)
    style = Style(p, RIGHT_ARM_CW)
    shoulder = _shoulder(side)
    radius = body.reach * np.minimum(0.97, style["radius"] * _size(tau, p, 0.08))
    centre = shoulder + np.array([side * style["out"], style["centre_y"], style["depth"]])
    # Clockwise as the subject sees it is counter-clockwise on screen (y down): the
    # on-screen angle falls; as the camera sees it, it grows. The same sense for both arms.
    sense = 1.0 if CLOCKWISE_ON_SCREEN else -1.0
    angle = sense * rhythm(tau, p, drift=0.35)
    flat = radius[:, None] * np.stack([np.cos(angle), style["roundness"] * np.sin(angle)], axis=-1)
    hand = reachable(shoulder, centre + np.concatenate([flat, np.zeros((n, 1))], axis=-1), body.reach)
    elbow = elbow_from_hand(shoulder, hand, body.upper_arm, body.forearm, _pole(side, 0.3, 0.2, 1.0))
    return _one_arm(side, hand, elbow, rest)


def _arm_roll(tau, p: GestureParams, body: BodyShape, rest: ArmPose) -> ArmPose:
    """Forearms rolling around each other in front of the chest: the hands circle a
    left-right axis, so the camera sees them rise and fall and swell and shrink."""
    n = len(tau)
    style = Style(p, ARM_ROLL)
    centre = np.array([style["x"], style["height"], style["depth"]])
    radius = _size(tau, p) * style["radius"]
    angle = p.direction * rhythm(tau, p, drift=0.4)
    # The rolling plane is vertical, turned from facing the camera (0) to side-on (90).
    turn = np.radians(style["turn_deg"])
    circle = radius[:, None] * np.stack([np.cos(turn) * np.cos(angle), np.sin(angle), np.sin(turn) * np.cos(angle)], axis=-1)
    r_hand = centre + _xyz(-style["apart"], 0.0, 0.0, n) + circle
    l_hand = centre + _xyz(style["apart"], 0.0, 0.0, n) - circle
    return _arms(body, r_hand, l_hand)


def _air_drums(tau, p: GestureParams, body: BodyShape, rest: ArmPose) -> ArmPose:
    """Two sticks striking drums in front of the belly, hands alternating, with now and
    then a reach for a cymbal higher and further out."""
    n = len(tau)
    style = Style(p, AIR_DRUMS)
    beat = rhythm(tau, p, drift=0.5)
    stroke = lambda x: np.sin(x) + 0.35 * np.sin(2 * x)  # noqa: E731  # fast down, slower lift
    height, spread, depth = style["height"], style["spread"], style["depth"]
    size = _size(tau, p) * style["stroke"]
    hands = []
    for side, offset in ((-1.0, 0.0), (1.0, np.pi)):
        down = stroke(beat + offset)
        hands.append(_xyz(side * (spread - 0.04 * np.sin(beat)), height + size * down, depth - 0.3 * size * down, n))
    # Cymbal: every few beats one hand goes up and out for a stroke.
    cymbal = np.clip(np.sin(beat / round(style["cymbal_every"]) + style["cymbal_phase"]) * 3 - 2, 0, 1)
    cymbal *= style["cymbal_odds"] > 0.3
    k = 0 if style["cymbal_side"] < 0.5 else 1
    target = np.array([(2 * k - 1) * (spread + 0.25), height - 0.45, depth])
    hands[k] = hands[k] + cymbal[:, None] * (target - hands[k])
    return _arms(body, hands[0], hands[1])


def _air_guitar(tau, p: GestureParams, body: BodyShape, rest: ArmPose) -> ArmPose:
    """Right hand strumming by the hip, left hand out to the side on the neck, fingers
    moving and sliding along it now and then."""
    n = len(tau)
    style = Style(p, AIR_GUITAR)
    strum = rhythm(tau, p, drift=0.6)
    r_hand = _xyz(
        style["strum_x"] + 0.05 * np.sin(strum),
        style["strum_y"] + _size(tau, p) * style["strum"] * np.sin(strum),
        style["strum_depth"],
        n,
    )
    rise = np.radians(style["neck_rise_deg"])
    neck_dir = np.array([np.cos(rise), -np.sin(rise), 0.25])
    neck_base = np.array([style["neck_x"], style["strum_y"], 0.3])
    slide = style["reach"] + 0.12 * wobble(tau, p.extra[16:19], 0.5)
    fret = 2 * np.pi * style["fret_hz"] * tau
    l_hand = neck_base + slide[:, None] * neck_dir + _xyz(0.02 * np.sin(fret), 0.025 * np.cos(1.3 * fret), 0.0, n)
    return _arms(body, r_hand, l_hand, FRONT_POLE, (0.6, 1.0, 0.2))


def _other(tau, p: GestureParams, body: BodyShape, rest: ArmPose) -> ArmPose:
    """Motions outside the set: both or one arm wandering, a hand at the head or face,
    stretching, or one arm swiping and pointing."""
    n = len(tau)
    style = Style(p, OTHER)
    variant = int(style["variant"])
    size = _size(tau, p)
    side = -1.0 if style["side"] < 0.5 else 1.0
    u = p.extra

    def wander(base: np.ndarray, offset: int) -> np.ndarray:
        path = np.broadcast_to(base, (n, 3)).copy()
        for k in range(2):  # two random sinusoids per axis
            freq = (0.5 + 1.2 * u[offset + k]) * p.freq_hz
            amp = (0.10 + 0.22 * u[offset + 2 + k]) * size
            path[:, 0] += amp * np.sin(2 * np.pi * freq * tau + p.phase + 2.1 * k)
            path[:, 1] += amp * np.cos(2 * np.pi * freq * 0.8 * tau + p.phase + 1.3 * k)
            path[:, 2] += 0.5 * amp * np.sin(2 * np.pi * freq * 0.6 * tau + 0.7 * k)
        return path

    if variant == 2:  # a hand at the head: scratching, fixing hair, rubbing the face
        rub = 2 * np.pi * style["rub_hz"] * tau
        spot = body.head_xyz + np.array([side * style["spot_x"], style["spot_y"], 0.15])
        hand = spot + _xyz(0.05 * np.sin(rub), 0.05 * np.cos(1.3 * rub), 0.0, n)
        hand = reachable(_shoulder(side), hand, body.reach)
        elbow = elbow_from_hand(_shoulder(side), hand, body.upper_arm, body.forearm, _pole(side, 1.0, 0.5, 0.0))
        return _one_arm(side, hand, elbow, rest)
    if variant == 3:  # stretching: both arms up and out and back, slowly
        lift = 0.5 - 0.5 * np.cos(2 * np.pi * 0.5 * p.freq_hz * tau + p.phase)
        height = 1.1 - style["stretch_up"] * lift
        out = style["stretch_out"]
        return _arms(body, _xyz(-out, height, 0.1, n), _xyz(out, height, 0.1, n), (1.0, 0.3, 0.3), (1.0, 0.3, 0.3))
    if variant == 4:  # one arm swiping across or pointing around
        swipe = np.sin(rhythm(tau, p, 0.8 * p.freq_hz))
        hand = np.stack([side * (0.2 + 0.6 * size * (0.5 + 0.5 * swipe)),
                         style["swipe_y"] + 0.15 * np.sin(2.3 * swipe), np.full(n, 0.5)], axis=-1)
        hand = reachable(_shoulder(side), hand, body.reach)
        elbow = elbow_from_hand(_shoulder(side), hand, body.upper_arm, body.forearm, _pole(side, 1.0, 0.6, 0.3))
        return _one_arm(side, hand, elbow, rest)
    r_hand = wander(np.array([style["r_x"], style["r_y"], style["r_z"]]), 16)
    l_hand = wander(np.array([style["l_x"], style["l_y"], style["l_z"]]), 18)
    arms = _arms(body, r_hand, l_hand)
    if variant == 1:  # only one arm moves
        return _one_arm(side, arms.r_hand if side < 0 else arms.l_hand,
                        arms.r_elbow if side < 0 else arms.l_elbow, rest)
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


# How much the torso gives way to the swinging arms, and how much the head moves on top.
TORSO_RECOIL = 0.03
HEAD_EXTRA = 0.5


def gesture_pose(tau: np.ndarray, params: GestureParams, body: BodyShape, rest: ArmPose) -> BodyPose:
    """Pose of ``params``' gesture at ``tau`` seconds into it, blended with ``rest``
    through :func:`envelope` so the arms rise into and fall out of the gesture.

    The torso recoils a little against the arms and the head follows with a small nod of
    its own, so the body outline fires too, as in real recordings. Both derive from the
    arm motion, so a time-reversed gesture reverses them as well.
    """
    tau = np.asarray(tau, dtype=np.float64)
    duration = params.duration_s
    label = params.label
    motion_tau = tau
    if label in TIME_REVERSED_OF:
        label = TIME_REVERSED_OF[label]
        motion_tau = duration - tau
    active = MOTIONS[label](motion_tau, params, body, rest)
    weight = envelope(tau, duration)[:, None]

    def blend(still: np.ndarray, moving: np.ndarray) -> np.ndarray:
        return still + weight * (moving - still)

    arms = ArmPose(
        r_hand=blend(rest.r_hand, active.r_hand),
        r_elbow=blend(rest.r_elbow, active.r_elbow),
        l_hand=blend(rest.l_hand, active.l_hand),
        l_elbow=blend(rest.l_elbow, active.l_elbow),
    )
    reach = (arms.r_hand - rest.r_hand) + (arms.l_hand - rest.l_hand)
    torso = -TORSO_RECOIL * reach * (0.5 + params.extra[N_STYLE + 6])
    torso[:, 2] = 0.0  # the torso layer shifts in the image plane only
    nod = 2 * np.pi * params.freq_hz * 0.5 * motion_tau + 6.28 * params.extra[N_STYLE + 7]
    head = HEAD_EXTRA * torso + weight * 0.012 * np.stack([np.sin(nod), 0.5 * np.cos(nod), 0 * nod], axis=-1)
    return BodyPose(arms=arms, torso=torso, head=head)
