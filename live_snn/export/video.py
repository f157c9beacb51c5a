"""Write BGR frames to a video file with OpenCV, picking the best codec that this OpenCV
build can actually open for the container (H.264 where available, else MPEG-4 Part 2).

Frames go to a hidden ``.NAME.partial.EXT`` next to the target and are renamed into place on
``close()``, so an interrupted export never leaves a truncated video under the real name."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from live_snn.errors import LiveSnnError

# Preferred codecs per container, best first; the last one is the reliable fallback.
CODECS_BY_SUFFIX: dict[str, tuple[str, ...]] = {
    ".mp4": ("avc1", "mp4v"),
    ".m4v": ("avc1", "mp4v"),
    ".mov": ("avc1", "mp4v"),
    ".mkv": ("avc1", "mp4v"),
    ".avi": ("MJPG", "XVID"),
}


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """FFmpeg reports every codec it fails to open straight to fd 2; a failed probe of a
    better codec is expected, not news for the user."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class VideoWriter:
    """``with VideoWriter(path, fps, (width, height)) as video: video.write(frame)``."""

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int],
                 codecs: tuple[str, ...] | None = None):
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if codecs is None:
            if suffix not in CODECS_BY_SUFFIX:
                raise LiveSnnError(
                    f"cannot write video {self.path}: unknown container '{suffix or '(none)'}', "
                    f"expected one of {', '.join(CODECS_BY_SUFFIX)}"
                )
            codecs = CODECS_BY_SUFFIX[suffix]
        if not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"video frame rate must be a positive number, got {fps}")
        self.fps = float(fps)
        self.size = (int(size[0]), int(size[1]))
        self.frames_written = 0
        self._partial = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        self._writer: cv2.VideoWriter | None = None
        self.codec = ""
        for i, codec in enumerate(codecs):
            last = i == len(codecs) - 1
            with contextlib.nullcontext() if last else _quiet_stderr():
                writer = cv2.VideoWriter(
                    str(self._partial), cv2.VideoWriter_fourcc(*codec), self.fps, self.size
                )
            if writer.isOpened():
                self._writer, self.codec = writer, codec
                break
            writer.release()
        if self._writer is None:
            self._partial.unlink(missing_ok=True)
            raise LiveSnnError(
                f"cannot write video {self.path}: OpenCV could not open any of the codecs "
                f"{', '.join(codecs)} for '{suffix}' at {self.size[0]}x{self.size[1]}"
            )

    def write(self, frame: np.ndarray) -> None:
        if self._writer is None:
            raise ValueError(f"video writer for {self.path} is closed")
        expected = (self.size[1], self.size[0], 3)
        if frame.shape != expected or frame.dtype != np.uint8:
            raise ValueError(
                f"frame {self.frames_written} of {self.path}: got {frame.dtype} "
                f"{list(frame.shape)}, expected uint8 {list(expected)}"
            )
        self._writer.write(frame)
        self.frames_written += 1

    def close(self) -> Path:
        """Finish the file and move it to its real name."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            self._partial.replace(self.path)
        return self.path

    def abort(self) -> None:
        """Stop and delete the partial file (the export failed)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        self._partial.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
