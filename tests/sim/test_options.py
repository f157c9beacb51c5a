"""Spellings of gesture classes and resolutions accepted by the CLI and the sim: spec."""

from __future__ import annotations

import pytest

from live_snn.errors import LiveSnnError
from live_snn.events import Resolution
from live_snn.sim.options import parse_gesture_class, parse_gesture_classes, parse_resolution


@pytest.mark.parametrize(
    ("token", "index"),
    [("1", 0), ("11", 10), ("right-arm-clockwise", 3), ("Right_Arm_Counter-Clockwise", 4),
     ("left hand wave", 2), ("air-guitar", 9)],
)
def test_classes_by_number_or_name(token, index):
    assert parse_gesture_class(token) == index


@pytest.mark.parametrize(("token", "message"), [("0", "out of range 1..11"), ("12", "out of range"),
                                                ("salute", "unknown gesture class 'salute'")])
def test_bad_classes_name_the_choices(token, message):
    with pytest.raises(LiveSnnError, match=message) as info:
        parse_gesture_class(token)
    assert "4=right-arm-clockwise" in str(info.value)


def test_several_classes_keep_order_and_drop_repeats():
    assert parse_gesture_classes(["4+5", "arm-roll", "4"]) == (3, 4, 7)
    with pytest.raises(LiveSnnError, match="no gesture class"):
        parse_gesture_classes(["+"])


def test_resolutions():
    assert parse_resolution("346x260") == Resolution(346, 260)
    assert parse_resolution("128X128") == Resolution(128, 128)
    with pytest.raises(LiveSnnError, match="WIDTHxHEIGHT"):
        parse_resolution("128")
    with pytest.raises(LiveSnnError, match="at least 32x32"):
        parse_resolution("16x16")
