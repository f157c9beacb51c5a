"""Is the simulator's picture the right way round for the real-data network? (docs/results.md,
"Where the judge's misses come from").

Simulates ``PER`` gestures of each class with ``live-snn bench realism``'s own code (one
person per gesture, 5.5-6.5 s, sessions ``class * 1000 + k`` of ``SEED``) and has the judge name each
one four times: as simulated, flipped top to bottom, flipped left to right, and turned by
180°. If the simulator's frame were the dataset's upside down or mirrored, a flip would name
more gestures right. Measures the simulator only; nothing here trains anything.

    .venv/bin/python scripts/realism_orientation.py 6 900000
"""

from __future__ import annotations

import collections
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from live_snn.bench.judge import DEFAULT_JUDGE, SENSOR
from live_snn.bench.realism import cached_judge, simulate_gesture
from live_snn.classes import DVS_GESTURE_CLASSES

GESTURE_S = (5.5, 6.5)
VIEWS = {"as simulated": (False, False), "top-bottom flip": (True, False),
         "left-right flip": (False, True), "turned 180°": (True, True)}


def flipped(events: np.ndarray, top_bottom: bool, left_right: bool) -> np.ndarray:
    out = events.copy()
    if top_bottom:
        out["y"] = SENSOR - 1 - out["y"]
    if left_right:
        out["x"] = SENSOR - 1 - out["x"]
    return out


def judge_views(job: tuple[int, int, int]) -> tuple[int, list[int]]:
    import torch

    torch.set_num_threads(1)
    label, seed, index = job
    events, segment = simulate_gesture(label, seed, index, GESTURE_S)
    judge = cached_judge(str(DEFAULT_JUDGE))
    return label, [judge.classify(flipped(events, *flips), segment.start_us, segment.end_us)[0]
                   for flips in VIEWS.values()]


def main(per_class: int, seed: int) -> None:
    jobs = [(label, seed, label * 1000 + k) for label in range(len(DVS_GESTURE_CLASSES))
            for k in range(per_class)]
    with ProcessPoolExecutor(2) as pool:
        results = list(pool.map(judge_views, jobs))
    for v, view in enumerate(VIEWS):
        right = sum(names[v] == label for label, names in results)
        print(f"{view}: {right}/{len(results)} named right")
        for label, name in enumerate(DVS_GESTURE_CLASSES):
            called = collections.Counter(names[v] for lab, names in results if lab == label)
            others = ", ".join(f"{DVS_GESTURE_CLASSES[k]} {n}" for k, n in called.most_common()
                               if k != label)
            print(f"  {name}: {called[label]}/{sum(called.values())}  {others}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 900000)
