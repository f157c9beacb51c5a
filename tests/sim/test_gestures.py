"""Kinematics of the simulated person: 3-D arm lengths and elbows, the perspective, the
left/right and clockwise conventions of DVS128 Gesture, the gesture envelope, and every
class moving what it should."""

from __future__ import annotations

import numpy as np
import pytest

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.events import Resolution
from live_snn.sim import gestures
from live_snn.sim.body import (
    L_HAND,
    L_SHOULDER,
    L_SHOULDER_XYZ,
    R_HAND,
    R_SHOULDER,
    R_SHOULDER_XYZ,
    BodyShape,
    elbow_from_hand,
)
from live_snn.sim.config import SimConfig
from live_snn.sim.gesture_styles import (
    LEFT_ARM_CCW,
    LEFT_ARM_CW,
    N_EXTRA,
    RIGHT_ARM_CCW,
    RIGHT_ARM_CW,
    STYLE_RANGES,
    GestureParams,
    Style,
)
from live_snn.sim.gestures import envelope
from live_snn.sim.script import GestureScript, SessionStyle


def test_inverse_kinematics_keeps_both_limb_lengths_and_follows_the_pole():
    rng = np.random.default_rng(0)
    hands = R_SHOULDER_XYZ + rng.uniform(-1.2, 1.2, (500, 3))
    reach = np.linalg.norm(hands - R_SHOULDER_XYZ, axis=-1)
    ok = (reach > 0.2) & (reach < 1.4)
    pole = np.array([0.0, 1.0, -1.0])  # down and back
    elbows = elbow_from_hand(R_SHOULDER_XYZ, hands[ok], 0.75, 0.67, pole)
    np.testing.assert_allclose(np.linalg.norm(elbows - R_SHOULDER_XYZ, axis=-1), 0.75, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(hands[ok] - elbows, axis=-1), 0.67, atol=1e-6)
    # Of the circle of possible elbows, the one towards the pole.
    other = elbow_from_hand(R_SHOULDER_XYZ, hands[ok], 0.75, 0.67, -pole)
    middle = 0.5 * (elbows + other)
    assert np.all(((elbows - middle) @ pole) >= ((other - middle) @ pole) - 1e-9)


def test_nearer_means_bigger_on_screen():
    body = BodyShape.random(np.random.default_rng(1), Resolution(128, 128))
    far, near = body.project(np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.6]]))
    assert far[2] == pytest.approx(1.0) and near[2] > 1.05
    origin = np.asarray(body.origin_px)
    assert np.linalg.norm(near[:2] - origin) > np.linalg.norm(far[:2] - origin)


def test_envelope_rises_falls_and_is_symmetric_in_time():
    tau = np.linspace(0.0, 2.0, 2001)
    weight = envelope(tau, 2.0)
    assert weight[0] == 0.0 and weight[-1] == 0.0 and weight[1000] == 1.0
    np.testing.assert_allclose(weight, weight[::-1], atol=1e-12)


def test_style_draws_each_parameter_within_its_range():
    params = GestureParams(RIGHT_ARM_CW, 0, 1_000_000, 1.0, 1.0, 0.0, 1.0,
                           np.random.default_rng(2).random(N_EXTRA))
    style = Style(params, RIGHT_ARM_CW)
    for name, (low, high) in STYLE_RANGES[RIGHT_ARM_CW].items():
        assert low <= style[name] <= high


def _script(label: int, seed: int = 0) -> GestureScript:
    rng = np.random.default_rng(seed)
    config = SimConfig(gesture_s=(2.0, 2.0), rest_s=(0.5, 0.5))
    body = BodyShape.random(rng, Resolution(128, 128))
    return GestureScript(rng, config, body, SessionStyle.random(rng), classes=[label], max_gestures=1)


def _steady_pose(script: GestureScript) -> np.ndarray:
    script.extend_to(10**9)
    g = script.gestures[0]
    return script.pose_at(np.arange(g.start_us + 400_000, g.end_us - 400_000, 2_000))


@pytest.mark.parametrize("label", range(len(DVS_GESTURE_CLASSES)))
def test_every_class_moves_the_arms_during_its_gesture_only(label):
    script = _script(label, seed=label)
    script.extend_to(10**9)
    g = script.gestures[0]
    during = script.pose_at(np.arange(g.start_us + 300_000, g.end_us - 300_000, 5_000))
    before = script.pose_at(np.arange(g.start_us - 400_000, g.start_us, 5_000))
    hands = [R_HAND, L_HAND]
    travel_during = np.abs(np.diff(during[:, hands, :2], axis=0)).sum(axis=(0, 2)).max()
    travel_before = np.abs(np.diff(before[:, hands, :2], axis=0)).sum(axis=(0, 2)).max()
    assert travel_during > 15.0  # px of hand path in the steady part
    assert travel_during > 10 * travel_before


@pytest.mark.parametrize("label", [1, RIGHT_ARM_CW, RIGHT_ARM_CCW])
def test_the_person_s_right_arm_is_on_the_image_left(label):
    pose = _steady_pose(_script(label))
    relative = pose[..., :2] - pose[:, 1:2, :2]  # to the neck: the whole body sways a little
    r_path = np.abs(np.diff(relative[:, R_HAND], axis=0)).sum()
    l_path = np.abs(np.diff(relative[:, L_HAND], axis=0)).sum()
    assert r_path > 10 * l_path
    assert pose[:, R_HAND, 0].mean() < pose[:, L_HAND, 0].mean()
    assert pose[0, R_SHOULDER, 0] < pose[0, L_SHOULDER, 0]
    assert L_SHOULDER_XYZ[0] > 0 > R_SHOULDER_XYZ[0]


def _turn_on_screen(label: int, shoulder: int, hand: int) -> float:
    """Total angle (rad) the hand turns about the shoulder on screen, y down: positive is
    clockwise as the camera sees it."""
    pose = _steady_pose(_script(label, seed=5))
    d = pose[:, hand, :2] - pose[:, shoulder, :2]
    angle = np.unwrap(np.arctan2(d[:, 1], d[:, 0]))
    return float(angle[-1] - angle[0])


@pytest.mark.parametrize(("label", "shoulder", "hand", "sense"), [
    (RIGHT_ARM_CW, R_SHOULDER, R_HAND, -1), (RIGHT_ARM_CCW, R_SHOULDER, R_HAND, +1),
    (LEFT_ARM_CW, L_SHOULDER, L_HAND, -1), (LEFT_ARM_CCW, L_SHOULDER, L_HAND, +1),
])
def test_clockwise_is_as_the_subject_sees_it(label, shoulder, hand, sense):
    """DVS128 Gesture's convention, as the network trained on it reads our gestures: a
    "clockwise" arm turns clockwise for the person facing the camera, which the camera sees
    counter-clockwise, for either arm."""
    assert gestures.CLOCKWISE_ON_SCREEN is False
    turned = _turn_on_screen(label, shoulder, hand)
    assert sense * turned > np.pi  # more than half a turn in the steady part, the right way
