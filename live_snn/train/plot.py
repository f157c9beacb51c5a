"""The evaluation figure: the streaming confusion matrix on the left, the onset-latency
histogram on the right, under a title band of their own."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from live_snn.figures import BLACK, FONT, render_confusion, render_histogram


def render_report(confusion: np.ndarray, class_names: Sequence[str],
                  latencies_ms: Sequence[float], title: str) -> np.ndarray:
    left = render_confusion(confusion, class_names, "streaming confusion")
    right = render_histogram(latencies_ms, "onset latency")
    # The title gets a band of its own across both panels: in the confusion panel's own
    # title line a long one ran into the histogram's.
    band = 34
    height = band + max(left.shape[0], right.shape[0])
    canvas = np.full((height, left.shape[1] + right.shape[1], 3), 255, np.uint8)
    canvas[band:band + left.shape[0], :left.shape[1]] = left
    canvas[band:band + right.shape[0], left.shape[1]:] = right
    cv2.putText(canvas, title, (10, 24), FONT, 0.6, BLACK, 1, cv2.LINE_AA)
    return canvas


def write_report_png(path: str | Path, confusion: np.ndarray, class_names: Sequence[str],
                     latencies_ms: Sequence[float], title: str) -> Path:
    path = Path(path)
    image = render_report(confusion, class_names, latencies_ms, title)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"could not write the evaluation plot to {path}")
    return path
