"""What does the real-data network read in the simulator's gestures? (docs/results.md, "Where
the judge's misses come from").

Simulates ``PER`` gestures of each class with ``live-snn bench realism``'s own code (one
person per gesture, 5.5-6.5 s, sessions ``class * 1000 + k`` of ``SEED``) and has the judge
name each one in several views of the same events:

* ``orientation``: as simulated, flipped top to bottom, flipped left to right, turned by
  180°. If the simulator's frame were the dataset's upside down or mirrored, a flip would
  name more gestures right.
* ``time-polarity``: as simulated, every polarity swapped, time reversed, and time reversed
  with polarities swapped (what the camera would record of the motion played backwards).
  A network that reads a circle's turning sense from the edges' polarity or from the order
  of positions names the swapped or reversed circle with the other sense.

Measures the simulator only; nothing here trains anything.

    .venv/bin/python scripts/realism_views.py orientation 6 900000
    .venv/bin/python scripts/realism_views.py time-polarity 12 900000 3,4,5,6,7,8
"""

from __future__ import annotations

import collections
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from live_snn.bench.judge import DEFAULT_JUDGE, SENSOR
from live_snn.bench.realism import cached_judge, simulate_gesture
from live_snn.classes import DVS_GESTURE_CLASSES

GESTURE_S = (5.5, 6.5)

View = Callable[[np.ndarray, int, int], np.ndarray]


def flipped(top_bottom: bool, left_right: bool) -> View:
    def view(events: np.ndarray, t0: int, t1: int) -> np.ndarray:
        out = events.copy()
        if top_bottom:
            out["y"] = SENSOR - 1 - out["y"]
        if left_right:
            out["x"] = SENSOR - 1 - out["x"]
        return out
    return view


def swapped_reversed(swap_polarity: bool, reverse_time: bool) -> View:
    def view(events: np.ndarray, t0: int, t1: int) -> np.ndarray:
        out = events[::-1].copy() if reverse_time else events.copy()
        if reverse_time:  # mirrored inside [t0, t1), still in time order
            out["t"] = t0 + t1 - 1 - out["t"]
        if swap_polarity:
            out["p"] = 1 - out["p"]
        return out
    return view


VIEW_SETS: dict[str, dict[str, View]] = {
    "orientation": {"as simulated": flipped(False, False), "top-bottom flip": flipped(True, False),
                    "left-right flip": flipped(False, True), "turned 180°": flipped(True, True)},
    "time-polarity": {"as simulated": swapped_reversed(False, False),
                      "polarity swapped": swapped_reversed(True, False),
                      "time reversed": swapped_reversed(False, True),
                      "played backwards (reversed and swapped)": swapped_reversed(True, True)},
}


def judge_views(job: tuple[str, int, int, int]) -> tuple[int, list[int]]:
    import torch

    torch.set_num_threads(1)
    view_set, label, seed, index = job
    events, segment = simulate_gesture(label, seed, index, GESTURE_S)
    judge = cached_judge(str(DEFAULT_JUDGE))
    t0, t1 = segment.start_us, segment.end_us
    return label, [judge.classify(view(events, t0, t1), t0, t1)[0] for view in VIEW_SETS[view_set].values()]


def main(view_set: str, per_class: int, seed: int, labels: list[int]) -> None:
    jobs = [(view_set, label, seed, label * 1000 + k) for label in labels for k in range(per_class)]
    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(judge_views, jobs))
    for v, view in enumerate(VIEW_SETS[view_set]):
        right = sum(names[v] == label for label, names in results)
        print(f"{view}: {right}/{len(results)} named right")
        for label in labels:
            called = collections.Counter(names[v] for lab, names in results if lab == label)
            others = ", ".join(f"{DVS_GESTURE_CLASSES[k]} {n}" for k, n in called.most_common()
                               if k != label)
            print(f"  {DVS_GESTURE_CLASSES[label]}: {called[label]}/{sum(called.values())}  {others}")


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in VIEW_SETS:
        sys.exit(f"usage: realism_views.py {{{'|'.join(VIEW_SETS)}}} PER_CLASS [SEED [CLASSES]]")
    all_labels = list(range(len(DVS_GESTURE_CLASSES)))
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 900000,
         [int(c) for c in sys.argv[4].split(",")] if len(sys.argv) > 4 else all_labels)
