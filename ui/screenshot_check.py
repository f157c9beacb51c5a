"""Is a screenshot of the window more than a blank frame? Used by CI (after ``live-snn gui
--screenshot`` under xvfb) and by the tests.

``python -m live_snn_ui.screenshot_check FILE.png [--min-width W --min-height H]`` exits 0
when the image is readable, large enough, shows many distinct colours, has a good share of
pixels away from the background, and contains both event colours (ON warm, OFF cool) in
the event view's part of the window; otherwise it exits 1 saying which check failed.
Qt-free (OpenCV + NumPy), so it runs anywhere.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live_snn.export.palette import OFF_EVENT_RGB, ON_EVENT_RGB

MIN_DISTINCT_COLOURS = 64       # after quantising to 32 levels per channel
MIN_FOREGROUND_FRACTION = 0.05  # pixels that differ from the most common colour
MIN_EVENT_PIXELS = 20           # pixels of each event colour in the event view's area


@dataclass(frozen=True)
class ScreenshotReport:
    width: int
    height: int
    distinct_colours: int
    foreground_fraction: float
    on_pixels: int
    off_pixels: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return (f"{self.width}x{self.height}, {self.distinct_colours} distinct colours, "
                f"{self.foreground_fraction:.0%} non-background, event pixels ON "
                f"{self.on_pixels} / OFF {self.off_pixels}")


def _near_hue(rgb: np.ndarray, target: tuple[int, int, int]) -> np.ndarray:
    """Pixels whose colour points the way ``target`` does (any brightness above dim)."""
    pixels = rgb.reshape(-1, 3).astype(np.float32)
    norm = np.linalg.norm(pixels, axis=1)
    t = np.asarray(target, dtype=np.float32)
    cosine = pixels @ (t / np.linalg.norm(t)) / np.maximum(norm, 1e-6)
    return (cosine > 0.99) & (norm > 60)


def check_screenshot(path: Path, *, min_width: int = 800, min_height: int = 500) -> ScreenshotReport:
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        return ScreenshotReport(0, 0, 0, 0.0, 0, 0, (f"cannot read {path} as an image",))
    rgb = bgr[..., ::-1]
    height, width = rgb.shape[:2]
    problems = []
    if width < min_width or height < min_height:
        problems.append(f"image is {width}x{height}, expected at least {min_width}x{min_height}")
    quantised = (rgb >> 3).reshape(-1, 3).astype(np.int32)
    keys = (quantised[:, 0] << 10) | (quantised[:, 1] << 5) | quantised[:, 2]
    values, counts = np.unique(keys, return_counts=True)
    distinct = int(len(values))
    foreground = 1.0 - counts.max() / keys.size
    if distinct < MIN_DISTINCT_COLOURS:
        problems.append(f"only {distinct} distinct colours (blank or flat window?), expected "
                        f">= {MIN_DISTINCT_COLOURS}")
    if foreground < MIN_FOREGROUND_FRACTION:
        problems.append(f"only {foreground:.1%} of the pixels differ from the background, "
                        f"expected >= {MIN_FOREGROUND_FRACTION:.0%}")
    # The event image: the upper half of the window's left third (the panels are drawn in
    # other colours than the two event colours, so these pixels come from events).
    events_area = rgb[height // 20 : height * 11 // 20, : width * 3 // 10]
    on_pixels = int(_near_hue(events_area, ON_EVENT_RGB).sum())
    off_pixels = int(_near_hue(events_area, OFF_EVENT_RGB).sum())
    if on_pixels < MIN_EVENT_PIXELS or off_pixels < MIN_EVENT_PIXELS:
        problems.append(f"event view shows {on_pixels} ON and {off_pixels} OFF pixels, expected "
                        f">= {MIN_EVENT_PIXELS} of each (no events drawn?)")
    return ScreenshotReport(width, height, distinct, float(foreground), on_pixels, off_pixels,
                            tuple(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("png", type=Path)
    parser.add_argument("--min-width", type=int, default=800)
    parser.add_argument("--min-height", type=int, default=500)
    args = parser.parse_args(argv)
    report = check_screenshot(args.png, min_width=args.min_width, min_height=args.min_height)
    if report.ok:
        print(f"screenshot ok: {args.png}: {report.summary()}")
        return 0
    for problem in report.problems:
        print(f"screenshot check failed: {args.png}: {problem}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
