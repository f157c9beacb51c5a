"""``live-snn bench realism``: how real the gesture simulator looks, measured two ways, side
by side in one run.

1. **A network trained on real DVS128 Gesture** (:mod:`live_snn.bench.judge`) names
   simulated gestures of fresh seeds: accuracy, per-class recall and the confusion matrix.
   Each gesture is performed by its own simulated person (seed, session) and lasts about as
   long as a DVS128 Gesture trial (6 s), judged whole in 40 ms frames as that network was
   tested. Skipped, with the reason, when ``../shared/data/judge`` is absent.
2. **Statistics** (:mod:`live_snn.bench.recording_stats`) of those simulated gestures
   against the real 128x128 recordings in ``../shared/data/recordings``: for each, the real
   recordings' range, the simulator's median and 10-90 % spread, and whether the median
   falls inside the real range. The real recordings are only measured here, never judged.

``--write-docs`` puts the tables into docs/results.md and the figure into
docs/results/realism.png.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from live_snn.bench.judge import DEFAULT_JUDGE
from live_snn.bench.recording_stats import STATS, density_map, recording_statistics
from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.errors import LiveSnnError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RECORDINGS = REPO_ROOT.parent / "shared" / "data" / "recordings"
RESULTS_FILE = REPO_ROOT / "docs" / "results.md"
FIGURE_FILE = REPO_ROOT / "docs" / "results" / "realism.png"
TARGET_ACCURACY = 0.80
TARGET_CLASS_RECALL = 0.50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--per-class", type=int, default=19,
                        help="simulated gestures per class, each by its own person (default 19: 209)")
    parser.add_argument("--seed", type=int, default=800_000,
                        help="simulator seed of the gestures (default 800000: never used to "
                             "train or tune anything)")
    parser.add_argument("--gesture-s", type=float, nargs=2, default=(5.5, 6.5), metavar=("MIN", "MAX"),
                        help="gesture length range, seconds (default 5.5 6.5, as DVS128 Gesture)")
    parser.add_argument("--workers", type=int, default=max(1, min(2, os.cpu_count() or 1)),
                        help="simulating processes (default 2)")
    parser.add_argument("--judge", type=Path, default=DEFAULT_JUDGE,
                        help="the real-data network's weights (default ../shared/data/judge/...)")
    parser.add_argument("--recordings", type=Path, default=DEFAULT_RECORDINGS,
                        help="folder of real recordings; its 128x128 ones are measured")
    parser.add_argument("--write-docs", action="store_true",
                        help="write the tables into docs/results.md and the figure into "
                             "docs/results/realism.png")


@dataclass(frozen=True)
class SimulatedGesture:
    label: int
    predicted: int | None  # None when there is no judge
    stats: dict[str, float]
    density: np.ndarray


def simulate_gesture(label: int, seed: int, index: int, gesture_s: tuple[float, float]):
    """One gesture of class ``label`` as the bench simulates it (one person, session ``index``
    of ``seed``): its events and its label segment."""
    from live_snn.sim import GestureSimulator, SimConfig

    session = GestureSimulator(SimConfig(seed=seed, gesture_s=gesture_s)).session(
        1, classes=[label], index=index)
    segment = session.labels.segments[0]
    return session.events.slice_time(segment.start_us, segment.end_us).events, segment


def _simulate_and_judge(job: tuple[int, int, int, tuple[float, float], str | None]) -> SimulatedGesture:
    """One simulated gesture (worker process): its statistics, and the judge's verdict."""
    import torch

    torch.set_num_threads(1)
    label, seed, index, gesture_s, judge_path = job
    events, segment = simulate_gesture(label, seed, index, gesture_s)
    predicted = None
    if judge_path is not None:
        predicted, _ = cached_judge(judge_path).classify(events, segment.start_us, segment.end_us)
    return SimulatedGesture(label, predicted, recording_statistics(events, segment.start_us, segment.end_us),
                            density_map(events))


_JUDGES: dict[str, object] = {}


def cached_judge(path: str):
    """The judge network at ``path``, loaded once per process."""
    from live_snn.bench.judge import RealGestureJudge

    if path not in _JUDGES:  # once per worker process
        _JUDGES[path] = RealGestureJudge.load(path)
    return _JUDGES[path]


def _real_recordings(folder: Path) -> list[tuple[str, dict[str, float], np.ndarray]]:
    """Statistics and density of every 128x128 recording in ``folder`` (whole files)."""
    from live_snn.sources.aedat4 import Aedat4Source

    measured = []
    for path in sorted(folder.glob("*.aedat4")):
        source = Aedat4Source(path)
        try:
            if (source.resolution.width, source.resolution.height) != (128, 128):
                continue
            batches = [batch.events for batch in source]
        finally:
            source.close()
        events = np.concatenate(batches) if batches else np.zeros(0)
        if events.size == 0:
            continue
        t0, t1 = int(events["t"][0]), int(events["t"][-1]) + 1
        measured.append((path.stem, recording_statistics(events, t0, t1), density_map(events)))
    return measured


def run(args: argparse.Namespace) -> int:
    if args.per_class < 1:
        raise LiveSnnError("--per-class must be at least 1")
    judge_path = str(args.judge) if args.judge.is_file() else None
    if judge_path is None:
        print(f"judge: skipped: no real-data network at {args.judge} (../shared/data/judge is "
              "absent); measuring statistics only")
    else:
        cached_judge(judge_path)  # a bad file fails here, with its reason, before any simulation
    real = _real_recordings(args.recordings) if args.recordings.is_dir() else []
    if not real:
        print(f"real recordings: skipped: no 128x128 recordings in {args.recordings}")
    jobs = [(label, args.seed, label * 1000 + k, tuple(args.gesture_s), judge_path)
            for label in range(len(DVS_GESTURE_CLASSES)) for k in range(args.per_class)]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        simulated = list(pool.map(_simulate_and_judge, jobs))
    print(f"simulated and measured {len(simulated)} gestures in {time.perf_counter() - started:.0f} s")
    markdown = report_markdown(simulated, real, args)
    print(markdown)
    if args.write_docs:
        from live_snn.bench.report import write_section

        FIGURE_FILE.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(FIGURE_FILE), render_figure(simulated, real)):
            raise LiveSnnError(f"could not write {FIGURE_FILE}")
        write_section("realism", markdown, RESULTS_FILE)
        print(f"wrote {RESULTS_FILE} and {FIGURE_FILE}")
    return 0


def judge_confusion(simulated: list[SimulatedGesture]) -> np.ndarray:
    k = len(DVS_GESTURE_CLASSES)
    confusion = np.zeros((k, k), dtype=np.int64)
    for g in simulated:
        if g.predicted is not None:
            confusion[g.label, g.predicted] += 1
    return confusion


def statistics_rows(simulated: list[SimulatedGesture],
                    real: list[tuple[str, dict[str, float], np.ndarray]]) -> list[dict]:
    """Per statistic: real min / max, simulated median and 10-90 % spread, inside or not."""
    rows = []
    for spec in STATS:
        sim = np.array([g.stats[spec.key] for g in simulated], dtype=np.float64)
        sim = sim[np.isfinite(sim)]
        values = np.array([s[spec.key] for _, s, _ in real], dtype=np.float64)
        values = values[np.isfinite(values)]
        row = {"spec": spec, "sim": sim, "real": values}
        if sim.size:
            row["median"], row["p10"], row["p90"] = (float(v) for v in np.percentile(sim, [50, 10, 90]))
        if values.size:
            row["low"], row["high"] = float(values.min()), float(values.max())
        row["inside"] = ("median" in row and "low" in row
                         and row["low"] <= row["median"] <= row["high"])
        rows.append(row)
    return rows


def report_markdown(simulated: list[SimulatedGesture],
                    real: list[tuple[str, dict[str, float], np.ndarray]],
                    args: argparse.Namespace) -> str:
    from live_snn.bench.report import machine_description

    lines = [
        f"Machine: {machine_description()}. Command: `live-snn bench realism --per-class "
        f"{args.per_class} --seed {args.seed} --gesture-s {args.gesture_s[0]:g} {args.gesture_s[1]:g}`; "
        f"{len(simulated)} simulated gestures, each by its own person (seed {args.seed}, sessions "
        f"`class * 1000 + k`), never used to train or tune anything.",
        "",
    ]
    confusion = judge_confusion(simulated)
    judged = int(confusion.sum())
    if judged:
        accuracy = np.trace(confusion) / judged
        recall = np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)
        verdict = ("meets" if accuracy >= TARGET_ACCURACY and recall.min() >= TARGET_CLASS_RECALL
                   else "does not meet")
        lines += [
            "**The real-data network** (NeuroBench's CSNN, trained on real DVS128 Gesture, 86.4 % on its "
            "real test set; Apache-2.0) names "
            f"**{np.trace(confusion)} of {judged} ({100 * accuracy:.1f} %)** simulated gestures; the "
            f"weakest class {100 * recall.min():.0f} %. Target ≥ {100 * TARGET_ACCURACY:.0f} % and every "
            f"class ≥ {100 * TARGET_CLASS_RECALL:.0f} %: {verdict}.",
            "",
            "| class | recall | named instead (count) |",
            "|---|---|---|",
        ]
        for i, name in enumerate(DVS_GESTURE_CLASSES):
            others = ", ".join(f"{DVS_GESTURE_CLASSES[j]} {confusion[i, j]}"
                               for j in np.argsort(-confusion[i]) if j != i and confusion[i, j])
            lines.append(f"| {name} | {confusion[i, i]}/{confusion[i].sum()} | {others or '-'} |")
        lines.append("")
    else:
        lines += ["The real-data network was not available: no accuracy measured.", ""]
    rows = statistics_rows(simulated, real)
    inside = sum(r["inside"] for r in rows)
    lines += [
        f"**Statistics**, simulated gestures against {len(real)} real 128x128 recordings "
        f"({', '.join(n for n, _, _ in real) or 'none found'}): the simulator's median falls inside the "
        f"real range for {inside} of {len(rows)}.",
        "",
        "| statistic | real (min – max) | simulated median [10 – 90 %] | inside |",
        "|---|---|---|---|",
    ]
    for r in rows:
        spec = r["spec"]
        d = spec.digits
        unit = f" {spec.unit}" if spec.unit else ""
        real_text = f"{r['low']:.{d}f} – {r['high']:.{d}f}" if "low" in r else "-"
        sim_text = f"{r['median']:.{d}f} [{r['p10']:.{d}f} – {r['p90']:.{d}f}]" if "median" in r else "-"
        lines.append(f"| {spec.label}{unit} | {real_text} | {sim_text} | {'yes' if r['inside'] else '**no**'} |")
    lines += ["", "![real vs simulated](results/realism.png)"]
    return "\n".join(lines)


def _density_image(density: np.ndarray, size: int, title: str) -> np.ndarray:
    d = density / max(float(density.max()), 1e-12)
    d = np.log1p(1000 * d) / np.log1p(1000)
    img = cv2.applyColorMap((255 * d).astype(np.uint8), cv2.COLORMAP_INFERNO)
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_NEAREST)
    band = np.full((28, size, 3), 255, np.uint8)
    cv2.putText(band, title, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([band, img])


def _range_chart(rows: list[dict], width: int = 900, row_h: int = 22) -> np.ndarray:
    """One line per statistic: the real range as a grey bar, the simulated 10-90 % spread
    as a blue line and its median as a dot (green inside the real range, red outside)."""
    left, right = 330, 20
    img = np.full((row_h * len(rows) + 40, width, 3), 255, np.uint8)
    cv2.putText(img, "grey: real range   blue: simulated 10-90 %   dot: simulated median",
                (10, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (80, 80, 80), 1, cv2.LINE_AA)
    span = width - left - right
    for i, r in enumerate(rows):
        y = 40 + i * row_h + row_h // 2
        cv2.putText(img, r["spec"].label[:48], (10, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1,
                    cv2.LINE_AA)
        values = [r.get(k) for k in ("low", "high", "p10", "p90", "median") if r.get(k) is not None]
        if not values:
            continue
        lo, hi = min(values), max(values)
        pad = 0.05 * (hi - lo) if hi > lo else 1.0
        lo, hi = lo - pad, hi + pad
        def to_x(v: float, lo: float = lo, hi: float = hi) -> int:
            return int(left + span * (v - lo) / (hi - lo))

        if "low" in r:
            cv2.rectangle(img, (to_x(r["low"]), y - 5), (to_x(r["high"]), y + 5), (190, 190, 190), -1)
        if "median" in r:
            cv2.line(img, (to_x(r["p10"]), y), (to_x(r["p90"]), y), (200, 120, 40), 2)
            cv2.circle(img, (to_x(r["median"]), y), 5, (40, 160, 40) if r["inside"] else (40, 40, 220), -1)
    return img


def render_figure(simulated: list[SimulatedGesture],
                  real: list[tuple[str, dict[str, float], np.ndarray]]) -> np.ndarray:
    """Densities (real, simulated), the judge's confusion matrix, and the statistics."""
    from live_snn.figures import render_confusion

    size = 300
    panels = [
        _density_image(sum(d for _, _, d in real) if real else np.zeros((128, 128)), size,
                       "where events fall: real"),
        _density_image(sum(g.density for g in simulated), size, "where events fall: simulated"),
    ]
    confusion = judge_confusion(simulated)
    if confusion.sum():
        panels.append(render_confusion(confusion, DVS_GESTURE_CLASSES, "real-data network on simulated",
                                       cell=26))
    height = max(p.shape[0] for p in panels)
    top = np.hstack([np.vstack([p, np.full((height - p.shape[0], p.shape[1], 3), 255, np.uint8)])
                     for p in panels])
    chart = _range_chart(statistics_rows(simulated, real), width=top.shape[1])
    return np.vstack([top, chart])
