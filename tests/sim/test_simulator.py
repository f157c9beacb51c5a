"""The simulator as a whole: determinism, well-formed events, labels that match the motion,
and clockwise / counter-clockwise gestures that are time mirrors of each other."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.events import EventBatch, Resolution, events_checksum
from live_snn.sim import GestureSimulator, SimConfig
from live_snn.sim.body import L_ELBOW, L_HAND, L_SHOULDER, NECK, R_ELBOW, R_HAND, R_SHOULDER
from live_snn.sim.gesture_styles import LEFT_ARM_CCW, LEFT_ARM_CW, RIGHT_ARM_CCW, RIGHT_ARM_CW

SHORT = SimConfig(seed=4, gesture_s=(1.6, 1.6), rest_s=(0.3, 0.3))
# Without sensor noise, every event comes from the rendered person.
QUIET = SimConfig(seed=4, gesture_s=(1.6, 1.6), rest_s=(0.3, 0.3), noise_hz=0.0, hot_pixels=0)


def test_same_seed_gives_the_same_session_and_another_seed_does_not():
    first = GestureSimulator(SHORT).session(1, index=1)
    again = GestureSimulator(SHORT).session(1, index=1)
    assert len(first.events) > 10_000
    assert events_checksum(first.events.events) == events_checksum(again.events.events)
    assert first.labels == again.labels
    start = first.events.slice_time(None, 500_000).events
    other_index = GestureSimulator(SHORT).stream(index=2).advance_to(500_000).events
    other_seed = GestureSimulator(replace(SHORT, seed=5)).stream(index=1).advance_to(500_000).events
    assert events_checksum(start) != events_checksum(other_index)
    assert events_checksum(start) != events_checksum(other_seed)


def test_chunking_and_ending_do_not_change_the_events():
    """A finite session is the beginning of the endless stream of the same seed, and the
    chunk size of a stream changes nothing."""
    session = GestureSimulator(SHORT).session(1, index=3)
    endless = GestureSimulator(SHORT).stream(index=3, chunk_us=7_300)
    chunks = []
    while endless.time_us < session.end_us:
        chunks.append(endless.advance_to(min(endless.time_us + 7_300, session.end_us)))
    streamed = EventBatch.concatenate(chunks)
    assert np.array_equal(streamed.events, session.events.events)
    assert endless.labels.segments[0] == session.labels.segments[0]


def test_events_are_well_formed():
    config = SimConfig(seed=1, gesture_s=(1.6, 1.6), rest_s=(0.3, 0.3))
    session = GestureSimulator(config).session(2)
    ev = session.events
    assert ev.resolution == Resolution(128, 128)
    assert np.all(np.diff(ev.t) >= 0)
    assert ev.t[0] >= session.start_us and ev.t[-1] < session.end_us
    assert ev.x.min() >= 0 and ev.x.max() < 128 and ev.y.min() >= 0 and ev.y.max() < 128
    assert set(np.unique(ev.p).tolist()) == {0, 1}
    assert 0.4 < ev.p.mean() < 0.6  # ON and OFF balance over gestures that come and go


def test_sessions_follow_the_timeline_and_class_choice():
    config = SimConfig(seed=9, gesture_s=(1.5, 3.0), rest_s=(0.3, 0.9))
    stream = GestureSimulator(config).stream(n_gestures=12, classes=[1, 2])  # timeline only
    labels = stream.script.label_track()
    segments = labels.segments
    assert len(segments) == 12
    assert {s.label for s in segments} == {1, 2}
    assert labels.class_names == DVS_GESTURE_CLASSES
    starts = np.array([s.start_us for s in segments])
    ends = np.array([s.end_us for s in segments])
    assert np.all((ends - starts >= 1_500_000) & (ends - starts <= 3_000_000))
    assert len(np.unique(ends - starts)) == 12  # each gesture its own length
    rests = np.concatenate([[starts[0] - stream.start_us], starts[1:] - ends[:-1], [stream.end_us - ends[-1]]])
    assert np.all((rests >= 300_000) & (rests <= 900_000))


def test_duration_sessions_hold_only_whole_gestures():
    session = GestureSimulator(SHORT).session(duration_s=4.0)
    assert session.end_us - session.start_us == 4_000_000
    assert session.labels.segments and all(s.end_us <= session.end_us for s in session.labels.segments)
    assert session.events.t[-1] < session.end_us


def test_session_length_must_be_given_once():
    with pytest.raises(ValueError, match="exactly one"):
        GestureSimulator(SHORT).session()
    with pytest.raises(ValueError, match="exactly one"):
        GestureSimulator(SHORT).session(2, duration_s=3.0)
    with pytest.raises(ValueError, match="out of range"):
        GestureSimulator(SHORT).session(1, classes=[11])


def test_events_concentrate_in_labelled_segments():
    session = GestureSimulator(SHORT).session(2, index=5)
    ev = session.events
    labelled = session.labels.label_at(ev.t) >= 0
    labelled_us = sum(s.end_us - s.start_us for s in session.labels.segments)
    rest_us = (session.end_us - session.start_us) - labelled_us
    rate_in = labelled.sum() / labelled_us
    rate_out = (~labelled).sum() / rest_us
    assert rate_in > 2.5 * rate_out, (rate_in * 1e6, rate_out * 1e6)


def _distance_to_segment(points, a, b):
    ab = b - a
    along = np.clip(((points - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-9), 0.0, 1.0)
    return np.linalg.norm(points - (a + along[:, None] * ab), axis=-1)


def _near_arm(points, joints, shoulder, elbow, hand, reach, hand_px):
    """Within ``reach`` of the upper arm, the forearm, or the hand beyond the wrist."""
    forearm = joints[:, hand] - joints[:, elbow]
    fingertips = joints[:, hand] + hand_px * forearm / np.maximum(
        np.linalg.norm(forearm, axis=-1, keepdims=True), 1e-9)
    d = np.minimum.reduce([
        _distance_to_segment(points, joints[:, shoulder], joints[:, elbow]),
        _distance_to_segment(points, joints[:, elbow], joints[:, hand]),
        _distance_to_segment(points, joints[:, hand], fingertips),
    ])
    return d < reach


@pytest.mark.parametrize(
    ("label", "moving_side"),
    [(1, "right"), (2, "left"), (RIGHT_ARM_CW, "right"), (LEFT_ARM_CCW, "left")],
)
def test_the_moving_limb_events_lie_where_the_gesture_says(label, moving_side):
    """Events during the gesture sit on the arm the label names, at its place at the
    event's time; the person's right arm is on the image left."""
    stream = GestureSimulator(QUIET).stream(classes=[label], n_gestures=1, index=1)
    ev = np.concatenate([b.events for b in stream])
    gesture = stream.script.gestures[0]
    steady = ev[(ev["t"] >= gesture.start_us + 300_000) & (ev["t"] < gesture.end_us - 300_000)]
    joints = stream.script.pose_at(steady["t"])[..., :2]
    points = np.stack([steady["x"], steady["y"]], axis=-1) + 0.5
    body = stream.script.body
    # The arm's half-width (magnified when nearer the camera) and a pixel of blur.
    reach = 1.3 * 0.5 * body.arm_width * body.scale_px + 1.5
    hand_px = 1.3 * body.hand_length * body.scale_px
    near_right = _near_arm(points, joints, R_SHOULDER, R_ELBOW, R_HAND, reach, hand_px).mean()
    near_left = _near_arm(points, joints, L_SHOULDER, L_ELBOW, L_HAND, reach, hand_px).mean()
    moving, still = (near_right, near_left) if moving_side == "right" else (near_left, near_right)
    assert moving > 0.4 and moving > 5 * still, (moving, still)
    neck_x = joints[:, NECK, 0].mean()
    assert (steady["x"].mean() < neck_x) == (moving_side == "right")


def _mirror_pair(cw, ccw):
    simulator = GestureSimulator(QUIET)
    return (
        simulator.stream(classes=[cw], n_gestures=1, index=2),
        simulator.stream(classes=[ccw], n_gestures=1, index=2),
    )


@pytest.mark.parametrize(("cw", "ccw", "shoulder", "hand"), [
    (RIGHT_ARM_CW, RIGHT_ARM_CCW, R_SHOULDER, R_HAND),
    (LEFT_ARM_CW, LEFT_ARM_CCW, L_SHOULDER, L_HAND),
])
def test_counter_clockwise_is_clockwise_played_backwards(cw, ccw, shoulder, hand):
    cw_stream, ccw_stream = _mirror_pair(cw, ccw)
    g_cw, g_ccw = cw_stream.script.gestures[0], ccw_stream.script.gestures[0]
    assert (g_cw.start_us, g_cw.end_us) == (g_ccw.start_us, g_ccw.end_us)
    t = np.arange(g_cw.start_us, g_cw.end_us, 1_000)
    mirrored = g_cw.start_us + g_cw.end_us - t
    pose_cw, pose_ccw = cw_stream.script.pose_at(t)[..., :2], ccw_stream.script.pose_at(t)[..., :2]
    pose_cw_back = cw_stream.script.pose_at(mirrored)[..., :2]

    def arm_angle(pose):
        d = pose[:, hand] - pose[:, shoulder]
        return np.unwrap(np.arctan2(d[:, 1], d[:, 0]))

    # The limb angle trajectory of CCW is CW's reversed (the body's sway aside: nearly a
    # translation, up to the perspective of joints at different depths).
    np.testing.assert_allclose(arm_angle(pose_ccw), arm_angle(pose_cw_back), atol=1e-3)
    # Clockwise as the subject sees it is counter-clockwise on screen (y down): the angle
    # falls, steadily, while the arm is at speed (test_gestures pins the convention).
    middle = slice(len(t) // 5, -len(t) // 5)
    turn_cw = arm_angle(pose_cw)[middle]
    assert turn_cw[0] - turn_cw[-1] > np.pi
    assert np.all(np.diff(turn_cw) < 0)
    turn_ccw = arm_angle(pose_ccw)[middle]
    assert np.all(np.diff(turn_ccw) > 0)


def test_clockwise_and_counter_clockwise_events_mirror_in_time():
    cw_stream, ccw_stream = _mirror_pair(RIGHT_ARM_CW, RIGHT_ARM_CCW)
    a = np.concatenate([b.events for b in cw_stream])
    b = np.concatenate([b.events for b in ccw_stream])
    g = cw_stream.script.gestures[0]
    bins = np.linspace(g.start_us, g.end_us, 81)

    def profile(ev):
        counts, _ = np.histogram(ev["t"], bins)
        sx, _ = np.histogram(ev["t"], bins, weights=ev["x"].astype(float))
        sy, _ = np.histogram(ev["t"], bins, weights=ev["y"].astype(float))
        return counts, sx / np.maximum(counts, 1), sy / np.maximum(counts, 1)

    def corr(u, v):
        return np.corrcoef(u, v)[0, 1]

    counts_a, x_a, y_a = profile(a)
    counts_b, x_b, y_b = profile(b)
    # Event-count profile and where the events are over time: CCW(t) = CW(T - t).
    assert corr(counts_b, counts_a[::-1]) > 0.85
    assert corr(x_b, x_a[::-1]) > 0.85 and corr(y_b, y_a[::-1]) > 0.85
    # ...which the same order does not give: the two really differ in time order.
    assert corr(x_b, x_a) < 0.5 or corr(y_b, y_a) < 0.5
    # Played backwards, brightening becomes darkening: ON of CCW sits where OFF of CW was.
    window = 100_000
    t = g.start_us + 600_000
    t_mirror = g.start_us + g.end_us - t - window

    def polarity_map(ev, t0, polarity):
        part = ev[(ev["t"] >= t0) & (ev["t"] < t0 + window) & (ev["p"] == polarity)]
        image = np.zeros((128, 128))
        np.add.at(image, (part["y"], part["x"]), 1)
        return image.ravel()

    swapped = corr(polarity_map(b, t, 1), polarity_map(a, t_mirror, 0))
    same = corr(polarity_map(b, t, 1), polarity_map(a, t_mirror, 1))
    # (Rebounds mix the polarities, as on a real DVS128: the margin is not large.)
    assert swapped > 0.7 and swapped > same + 0.1, (swapped, same)


def test_other_sensor_resolutions_frame_the_person():
    config = SimConfig(resolution=(346, 260), seed=2, gesture_s=(1.5, 1.5), rest_s=(0.3, 0.3))
    stream = GestureSimulator(config).stream(n_gestures=1, classes=[RIGHT_ARM_CW])
    ev = EventBatch.concatenate(list(stream))
    assert ev.resolution == Resolution(346, 260)
    assert ev.x.max() < 346 and ev.y.max() < 260
    neck = stream.script.pose_at(np.array([0]))[0, NECK, :2]
    assert 0.4 * 346 < neck[0] < 0.6 * 346 and 0.45 * 260 < neck[1] < 0.6 * 260
    gesture = stream.script.gestures[0]
    inside = (ev.t >= gesture.start_us) & (ev.t < gesture.end_us)
    assert ev.x[inside].mean() < neck[0]  # the person's right arm, on the image left
