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
