import numpy as np
import pytest
import torch

from live_snn.events import LabelSegment, LabelTrack
from live_snn.train.sessions import (
    Segment,
    concat_clips,
    label_bins,
    segment_clips,
    segments_from_labels,
    session_from_frames,
)


def test_label_bins_uses_bin_centres_and_counts_bins_since_onset():
    track = LabelTrack((LabelSegment(2, 1_000, 3_600), LabelSegment(0, 5_000, 6_000)),
                       ("a", "b", "c"))
    t_start = np.arange(0, 8_000, 1_000)  # bins of 1 ms, centres at 500, 1500, ...
    labels, since, segments = label_bins(track, t_start, 1_000)
    assert labels.tolist() == [-1, 2, 2, 2, -1, 0, -1, -1]
    assert since.tolist() == [-1, 0, 1, 2, -1, 0, -1, -1]
    assert segments == (Segment(2, 1, 4), Segment(0, 5, 6))


def test_segment_starting_mid_bin_counts_from_the_bin_that_holds_its_start():
    track = LabelTrack((LabelSegment(1, 1_700, 4_000),), ("a", "b"))
    labels, since, _ = label_bins(track, np.arange(0, 5_000, 1_000), 1_000)
    # centre of bin 1 (1500) is before the start: bin 2 is the first labelled one, one bin in
    assert labels.tolist() == [-1, -1, 1, 1, -1]
    assert since.tolist() == [-1, -1, 1, 2, -1]


def test_session_from_frames_saturates_counts_to_uint8():
    frames = np.zeros((3, 2, 4, 4), np.float32)
    frames[0, 0, 0, 0] = 300.0
    frames[1, 1, 1, 1] = 7.0
    s = session_from_frames("x", frames, np.array([0, 10, 20]), None, 10)
    assert s.frames.dtype == torch.uint8
    assert int(s.frames[0, 0, 0, 0]) == 255 and int(s.frames[1, 1, 1, 1]) == 7
    assert s.labels.tolist() == [-1, -1, -1] and s.segments == ()


def test_concat_clips_lays_clips_end_to_end_with_gaps():
    clips = [torch.full((3, 2, 2, 2), 1, dtype=torch.uint8),
             torch.full((2, 2, 2, 2), 2, dtype=torch.uint8)]
    s = concat_clips("s", clips, [4, 7], 1000, gap_bins=1)
    assert len(s) == 6
    assert s.labels.tolist() == [4, 4, 4, -1, 7, 7]
    assert s.since_onset.tolist() == [0, 1, 2, -1, 0, 1]
    assert s.segments == (Segment(4, 0, 3), Segment(7, 4, 6))
    assert [(c.shape[0], label) for c, label in segment_clips(s)] == [(3, 4), (2, 7)]
    assert int(s.frames[3].sum()) == 0


def test_concat_clips_rejects_mismatched_frame_shape_naming_the_clip():
    clips = [torch.zeros((3, 2, 2, 2), dtype=torch.uint8),
             torch.zeros((3, 2, 3, 3), dtype=torch.uint8)]
    with pytest.raises(ValueError, match="clip 1"):
        concat_clips("s", clips, [0, 1], 1000)


def test_segments_from_labels_run_length_encodes():
    assert segments_from_labels(np.array([-1, 3, 3, 1, -1, -1, 1])) == (
        Segment(3, 1, 3), Segment(1, 3, 4), Segment(1, 6, 7))
