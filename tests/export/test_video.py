"""The OpenCV video writer: codec choice, frame checks, partial file handling."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from live_snn.errors import LiveSnnError
from live_snn.export.video import VideoWriter


def frames(n: int, size=(64, 48)):
    for k in range(n):
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        frame[:, : 4 * (k + 1)] = 255
        yield frame


def test_written_video_opens_with_every_frame_and_the_right_size(tmp_path):
    path = tmp_path / "clip.mp4"
    with VideoWriter(path, 25.0, (64, 48)) as video:
        for frame in frames(7):
            video.write(frame)
        assert not path.exists()          # still the partial file until closed
    assert video.codec in ("avc1", "mp4v") and video.frames_written == 7
    capture = cv2.VideoCapture(str(path))
    try:
        assert capture.isOpened()
        assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 7
        assert int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)) == 64
        assert int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == 48
        assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(25.0, rel=1e-3)
        decoded = 0
        while capture.read()[0]:
            decoded += 1
        assert decoded == 7
    finally:
        capture.release()
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_avi_uses_motion_jpeg(tmp_path):
    with VideoWriter(tmp_path / "clip.avi", 10.0, (64, 48)) as video:
        video.write(next(frames(1)))
    assert video.codec == "MJPG"


def test_unknown_container_is_refused_by_name(tmp_path):
    with pytest.raises(LiveSnnError, match=r"clip\.gif: unknown container '\.gif'"):
        VideoWriter(tmp_path / "clip.gif", 10.0, (64, 48))


def test_a_frame_of_the_wrong_size_names_its_index(tmp_path):
    with pytest.raises(ValueError, match=r"frame 1 of .*: got uint8 \[10, 10, 3\], expected uint8 \[48, 64, 3\]"), \
            VideoWriter(tmp_path / "clip.mp4", 10.0, (64, 48)) as video:
        video.write(next(frames(1)))
        video.write(np.zeros((10, 10, 3), np.uint8))
    assert not list(tmp_path.iterdir())   # a failed export leaves nothing behind
