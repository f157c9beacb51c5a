"""Class names of the data sets live_snn knows, in each data set's own order."""

from __future__ import annotations

# DVS128 Gesture (IBM), labels 1..11 in the dataset's CSV files; index = label - 1 here.
DVS_GESTURE_CLASSES: tuple[str, ...] = (
    "hand clap",
    "right hand wave",
    "left hand wave",
    "right arm clockwise",
    "right arm counter-clockwise",
    "left arm clockwise",
    "left arm counter-clockwise",
    "arm roll",
    "air drums",
    "air guitar",
    "other gestures",
)

NMNIST_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))

# The class each class becomes when its events are played backwards (time reversed, ON and
# OFF swapped), for the time-reversal augmentation of training windows. The clockwise and
# counter-clockwise circles of one arm swap (the simulator even makes one as the other
# played backwards); a clap, a wave, an arm roll (either turning sense), drums, guitar or
# another gesture played backwards is the same gesture.
DVS_GESTURE_TIME_REVERSED: tuple[int, ...] = (0, 1, 2, 4, 3, 6, 5, 7, 8, 9, 10)

# A digit seen through saccades played backwards is the same digit.
NMNIST_TIME_REVERSED: tuple[int, ...] = tuple(range(10))


def time_reversed_classes(class_names: tuple[str, ...] | list[str]) -> tuple[int, ...] | None:
    """The time-reversal table of a known data set's classes, None for other class lists."""
    known = {DVS_GESTURE_CLASSES: DVS_GESTURE_TIME_REVERSED, NMNIST_CLASSES: NMNIST_TIME_REVERSED}
    return known.get(tuple(class_names))
