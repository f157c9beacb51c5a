"""Which session draws go with the real-data network's misses? (docs/results.md, "Where the
judge's misses come from").

Simulates ``PER`` gestures of each class as ``live-snn bench realism`` does (one person per
gesture, 5.5-6.5 s, sessions ``class * 1000 + k`` of ``SEED``), has the judge name each, and
writes one JSON line per gesture with what the session drew: the person's looks, the
lighting, the framing, the sensor's threshold and noise, the gesture's tempo and size, and
the event rate. Then prints the recall per class and per third of each attribute's range.
Measures the simulator only; nothing here trains anything.

    .venv/bin/python scripts/realism_attributes.py 12 900000 /tmp/attributes.jsonl
"""

from __future__ import annotations

import collections
import json
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from live_snn.bench.judge import DEFAULT_JUDGE
from live_snn.classes import DVS_GESTURE_CLASSES

GESTURE_S = (5.5, 6.5)
NUMERIC = ("level", "scale_px", "origin_x", "origin_y", "events_per_s", "threshold", "noise_hz",
           "freq_hz", "amplitude", "wall", "shirt")
CATEGORICAL = ("person_darker", "lighting", "pattern", "long_sleeves")
_JUDGE: list = []


def judge_one(job: tuple[int, int, int]) -> dict:
    import torch

    from live_snn.bench.judge import RealGestureJudge
    from live_snn.sim import SimConfig
    from live_snn.sim.simulator import SimStream

    torch.set_num_threads(1)
    label, seed, index = job
    stream = SimStream(SimConfig(seed=seed, gesture_s=GESTURE_S), index=index, classes=[label],
                       n_gestures=1, chunk_us=10_000_000)
    events = np.concatenate([batch.events for batch in stream])
    segment = stream.labels.segments[0]
    events = events[(events["t"] >= segment.start_us) & (events["t"] < segment.end_us)]
    if not _JUDGE:  # once per worker process
        _JUDGE.append(RealGestureJudge.load(DEFAULT_JUDGE))
    judge = _JUDGE[0]
    predicted, _ = judge.classify(events, segment.start_us, segment.end_us)
    look, body, gesture = stream.look, stream.renderer.body, stream.script.gestures[0]
    return {
        "label": label, "predicted": int(predicted), "index": index,
        "person_darker": look.person_darker, "wall": look.wall, "shirt": look.shirt,
        "pattern": look.shirt_pattern, "long_sleeves": look.long_sleeves,
        "lighting": stream.lighting.kind, "level": stream.lighting.level,
        "scale_px": body.scale_px, "origin_x": body.origin_px[0], "origin_y": body.origin_px[1],
        "threshold": stream.sensor.settings.threshold, "noise_hz": stream.sensor.settings.noise_hz,
        "freq_hz": gesture.freq_hz, "amplitude": gesture.amplitude,
        "events_per_s": len(events) / ((segment.end_us - segment.start_us) / 1e6),
    }


def summarise(rows: list[dict]) -> None:
    right = lambda row: row["label"] == row["predicted"]  # noqa: E731
    print(f"{sum(map(right, rows))}/{len(rows)} named right")
    for label, name in enumerate(DVS_GESTURE_CLASSES):
        called = collections.Counter(r["predicted"] for r in rows if r["label"] == label)
        others = ", ".join(f"{DVS_GESTURE_CLASSES[k]} {n}" for k, n in called.most_common() if k != label)
        print(f"  {name}: {called[label]}/{sum(called.values())}  {others}")

    def by(key: str, group) -> None:
        tally = collections.defaultdict(lambda: [0, 0])
        for row in rows:
            cell = tally[group(row[key])]
            cell[0] += right(row)
            cell[1] += 1
        print(f"  {key}: " + ", ".join(f"{k}: {a}/{n}" for k, (a, n) in sorted(tally.items(), key=str)))

    print("recall by attribute (numbers: lower / middle / upper third of the values drawn)")
    for key in CATEGORICAL:
        by(key, lambda v: v)
    for key in NUMERIC:
        cuts = np.quantile([row[key] for row in rows], [1 / 3, 2 / 3])
        by(key, lambda v, cuts=cuts: ("lower", "middle", "upper")[int(np.searchsorted(cuts, v))])


def main() -> int:
    per_class, seed, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    jobs = [(label, seed, label * 1000 + k) for label in range(len(DVS_GESTURE_CLASSES))
            for k in range(per_class)]
    with ProcessPoolExecutor(2) as pool, open(out, "w") as file:
        rows = []
        for row in pool.map(judge_one, jobs):
            rows.append(row)
            file.write(json.dumps(row) + "\n")
    summarise(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
