"""Kinematics of the simulated person: arm lengths, the left/right convention, the
gesture envelope and every class producing motion."""

from __future__ import annotations

import numpy as np
import pytest

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.events import Resolution
from live_snn.sim.body import L_SHOULDER_XY, R_SHOULDER_XY, BodyShape, elbow_from_hand
from live_snn.sim.config import SimConfig
from live_snn.sim.gestures import envelope
from live_snn.sim.script import GestureScript, SessionStyle


def test_inverse_kinematics_keeps_both_limb_lengths():
    rng = np.random.default_rng(0)
    hands = R_SHOULDER_XY + rng.uniform(-1.0, 1.0, (500, 2))
    reach = np.linalg.norm(hands - R_SHOULDER_XY, axis=-1)
    ok = (reach > 0.1) & (reach < 1.1)
    elbows = elbow_from_hand(R_SHOULDER_XY, hands[ok], 0.6, 0.55, +1)
    np.testing.assert_allclose(np.linalg.norm(elbows - R_SHOULDER_XY, axis=-1), 0.6, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(hands[ok] - elbows, axis=-1), 0.55, atol=1e-6)
    # The bend sign picks the side: a hanging right arm bends outwards (image left) with +1.
    hanging = elbow_from_hand(R_SHOULDER_XY, np.array([[-0.5, 1.0]]), 0.6, 0.55, +1)
    assert hanging[0, 0] < R_SHOULDER_XY[0]


def test_envelope_rises_falls_and_is_symmetric_in_time():
    tau = np.linspace(0.0, 2.0, 2001)
    weight = envelope(tau, 2.0)
    assert weight[0] == 0.0 and weight[-1] == 0.0 and weight[1000] == 1.0
    np.testing.assert_allclose(weight, weight[::-1], atol=1e-12)


def _script(label: int, seed: int = 0) -> GestureScript:
    rng = np.random.default_rng(seed)
    config = SimConfig(gesture_s=(2.0, 2.0), rest_s=(0.5, 0.5))
    body = BodyShape.random(rng, Resolution(128, 128))
    return GestureScript(rng, config, body, SessionStyle.random(rng), classes=[label], max_gestures=1)


@pytest.mark.parametrize("label", range(len(DVS_GESTURE_CLASSES)))
def test_every_class_moves_the_arms_during_its_gesture_only(label):
    script = _script(label, seed=label)
    script.extend_to(10**9)
    g = script.gestures[0]
    during = script.pose_at(np.arange(g.start_us + 300_000, g.end_us - 300_000, 5_000))
    before = script.pose_at(np.arange(g.start_us - 400_000, g.start_us, 5_000))
    hands = [4, 7]  # r_hand, l_hand
    travel_during = np.abs(np.diff(during[:, hands], axis=0)).sum(axis=(0, 2)).max()
    travel_before = np.abs(np.diff(before[:, hands], axis=0)).sum(axis=(0, 2)).max()
    assert travel_during > 20.0  # px of hand path in the steady part
    assert travel_during > 10 * travel_before


def test_person_right_is_image_left():
    script = _script(1)  # right hand wave
    script.extend_to(10**9)
    g = script.gestures[0]
    pose = script.pose_at(np.arange(g.start_us + 300_000, g.end_us - 300_000, 5_000))
    relative = pose - pose[:, 1:2]  # to the neck: the whole body sways a little
    r_path = np.abs(np.diff(relative[:, 4], axis=0)).sum()
    l_path = np.abs(np.diff(relative[:, 7], axis=0)).sum()
    assert r_path > 20 * l_path
    assert pose[:, 4, 0].mean() < pose[:, 7, 0].mean()  # right hand on the image left
    body = script.body
    assert body.to_pixels(R_SHOULDER_XY)[0] < body.to_pixels(L_SHOULDER_XY)[0]
