"""Figures drawn with OpenCV (already a dependency, so no plotting library): a confusion-
matrix heatmap with class names, and a histogram. Shared by the evaluation report
(:mod:`live_snn.train.plot`) and the benchmarks."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GREY = (120, 120, 120)
BAR = (200, 120, 40)  # BGR


def render_confusion(confusion: np.ndarray, class_names: Sequence[str], title: str,
                     cell: int = 40) -> np.ndarray:
    k = confusion.shape[0]
    if confusion.shape != (k, k) or len(class_names) != k:
        raise ValueError(f"confusion {confusion.shape} does not match {len(class_names)} classes")
    label_w = 20 + max(cv2.getTextSize(n, FONT, 0.45, 1)[0][0] for n in class_names)
    top, bottom = 50, 40
    width, height = label_w + k * cell + 20, top + k * cell + bottom
    img = np.full((height, width, 3), 255, np.uint8)
    rows = confusion.sum(axis=1, keepdims=True).clip(min=1)
    fraction = confusion / rows
    heat = cv2.applyColorMap((fraction * 255).astype(np.uint8), cv2.COLORMAP_VIRIDIS)
    heat = cv2.resize(heat, (k * cell, k * cell), interpolation=cv2.INTER_NEAREST)
    img[top:top + k * cell, label_w:label_w + k * cell] = heat
    cv2.putText(img, title, (10, 25), FONT, 0.6, BLACK, 1, cv2.LINE_AA)
    for i, name in enumerate(class_names):
        y = top + i * cell + cell // 2 + 5
        cv2.putText(img, name, (10, y), FONT, 0.45, BLACK, 1, cv2.LINE_AA)
        cv2.putText(img, str(i), (label_w + i * cell + cell // 3, top + k * cell + 18), FONT,
                    0.45, BLACK, 1, cv2.LINE_AA)
        for j in range(k):
            if confusion[i, j]:
                colour = BLACK if fraction[i, j] > 0.6 else WHITE
                cv2.putText(img, str(int(confusion[i, j])),
                            (label_w + j * cell + 6, top + i * cell + cell // 2 + 5), FONT, 0.4,
                            colour, 1, cv2.LINE_AA)
    cv2.putText(img, "predicted ->  (rows: true class)", (label_w, height - 6), FONT, 0.4, GREY, 1,
                cv2.LINE_AA)
    return img


def render_histogram(values_ms: Sequence[float], title: str, width: int = 420,
                     height: int = 300, bins: int = 20) -> np.ndarray:
    img = np.full((height, width, 3), 255, np.uint8)
    cv2.putText(img, title, (10, 25), FONT, 0.55, BLACK, 1, cv2.LINE_AA)
    left, right, top, bottom = 50, 15, 45, 45
    plot_w, plot_h = width - left - right, height - top - bottom
    cv2.rectangle(img, (left, top), (left + plot_w, top + plot_h), GREY, 1)
    values = np.asarray(values_ms, dtype=np.float64)
    if values.size == 0:
        cv2.putText(img, "no segment recognised", (left + 10, top + plot_h // 2), FONT, 0.5,
                    BLACK, 1, cv2.LINE_AA)
        return img
    hi = max(float(values.max()), 1.0)
    counts, edges = np.histogram(values, bins=bins, range=(0.0, hi))
    peak = max(int(counts.max()), 1)
    bar_w = plot_w / bins
    for i, c in enumerate(counts):
        if c:
            x0 = int(left + i * bar_w)
            y0 = int(top + plot_h * (1 - c / peak))
            cv2.rectangle(img, (x0 + 1, y0), (int(x0 + bar_w) - 1, top + plot_h), BAR, -1)
    median = float(np.median(values))
    xm = int(left + plot_w * median / hi)
    cv2.line(img, (xm, top), (xm, top + plot_h), (0, 0, 200), 1)
    cv2.putText(img, f"median {median:.0f} ms", (min(xm + 4, width - 120), top + 15), FONT, 0.4,
                (0, 0, 200), 1, cv2.LINE_AA)
    cv2.putText(img, "0", (left - 5, top + plot_h + 18), FONT, 0.4, BLACK, 1, cv2.LINE_AA)
    cv2.putText(img, f"{edges[-1]:.0f} ms", (left + plot_w - 50, top + plot_h + 18), FONT, 0.4,
                BLACK, 1, cv2.LINE_AA)
    cv2.putText(img, str(peak), (10, top + 10), FONT, 0.4, BLACK, 1, cv2.LINE_AA)
    cv2.putText(img, "time from onset to stable correct prediction", (left, height - 8), FONT,
                0.4, GREY, 1, cv2.LINE_AA)
    return img
