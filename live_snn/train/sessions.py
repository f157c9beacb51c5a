"""Labelled sessions: the one form every training and evaluation data set is reduced to.

A session is a whole recording already binned by the live binner: frames ``[N, 2, H, W]``
(event counts, stored as uint8 to keep long recordings in memory), the label of every bin
(-1 where nothing is labelled, e.g. rest between gestures) and, for labelled bins, how many
bins have passed since their segment started (for the grace period of the loss and for
onset latency). DVS128 Gesture files and simulated sessions are sessions as recorded;
N-MNIST clips are laid end to end into sessions (see :func:`concat_clips`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from live_snn.binning import BinningConfig, bin_events
from live_snn.events import EventBatch, LabelTrack

COUNT_CLIP = 255  # frames are stored as uint8; a pixel rarely sees more events in one bin


@dataclass(frozen=True)
class Segment:
    """One labelled stretch of a session, in bins: ``[start, end)``."""

    label: int
    start: int
    end: int


@dataclass
class LabelledSession:
    name: str
    frames: torch.Tensor      # uint8 [N, 2, H, W]
    labels: torch.Tensor      # int64 [N], -1 = unlabelled
    since_onset: torch.Tensor  # int64 [N], bins since the segment start, -1 where unlabelled
    segments: tuple[Segment, ...]
    dt_us: int

    def __post_init__(self) -> None:
        n = self.frames.shape[0]
        if self.frames.dim() != 4 or self.frames.shape[1] != 2:
            raise ValueError(f"session {self.name!r}: frames must be [N, 2, H, W], got "
                             f"{tuple(self.frames.shape)}")
        if self.labels.shape != (n,) or self.since_onset.shape != (n,):
            raise ValueError(f"session {self.name!r}: {n} frames but labels "
                             f"{tuple(self.labels.shape)} / since_onset "
                             f"{tuple(self.since_onset.shape)}")

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        return tuple(self.frames.shape[1:])  # type: ignore[return-value]


def frames_to_uint8(frames: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Counts (float or int) -> uint8, saturating at :data:`COUNT_CLIP`."""
    return torch.as_tensor(frames).clamp(0, COUNT_CLIP).to(torch.uint8)


def segments_from_labels(labels: np.ndarray) -> tuple[Segment, ...]:
    """Runs of equal non-negative labels -> segments (vectorised run-length encoding)."""
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size == 0:
        return ()
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [labels.size]])
    return tuple(
        Segment(int(labels[s]), int(s), int(e)) for s, e in zip(starts, ends, strict=True)
        if labels[s] >= 0
    )


def label_bins(
    track: LabelTrack | None, t_start_us: np.ndarray, dt_us: int
) -> tuple[np.ndarray, np.ndarray, tuple[Segment, ...]]:
    """Label of every bin (taken at the bin centre), bins since its segment's start, segments.

    A segment's first bin is the bin holding its start time; two segments that touch stay
    separate even with the same label (a new gesture repetition is a new onset)."""
    t_start_us = np.asarray(t_start_us, dtype=np.int64)
    n = t_start_us.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    since = np.full(n, -1, dtype=np.int64)
    segments: list[Segment] = []
    if track is None or n == 0:
        return labels, since, ()
    centre = t_start_us + dt_us // 2
    for seg in track.segments:  # a recording holds a handful of segments
        inside = np.flatnonzero((centre >= seg.start_us) & (centre < seg.end_us))
        if inside.size == 0:
            continue
        first_bin = int(np.searchsorted(t_start_us, seg.start_us, side="right")) - 1
        first_bin = max(first_bin, 0)
        labels[inside] = seg.label
        since[inside] = inside - first_bin
        segments.append(Segment(seg.label, int(inside[0]), int(inside[-1]) + 1))
    return labels, since, tuple(sorted(segments, key=lambda s: s.start))


def session_from_frames(
    name: str,
    frames: np.ndarray | torch.Tensor,
    t_start_us: np.ndarray,
    track: LabelTrack | None,
    dt_us: int,
) -> LabelledSession:
    labels, since, segments = label_bins(track, t_start_us, dt_us)
    return LabelledSession(
        name=name,
        frames=frames_to_uint8(frames),
        labels=torch.from_numpy(labels),
        since_onset=torch.from_numpy(since),
        segments=segments,
        dt_us=dt_us,
    )


def bin_session(name: str, events: EventBatch, track: LabelTrack | None,
                binning: BinningConfig, *, t0_us: int, t_end_us: int) -> LabelledSession:
    """A recording binned by the live binner over ``[t0_us, t_end_us)``, labelled by ``track``."""
    binned = bin_events(events, binning, t0_us=t0_us, t_end_us=t_end_us)
    return session_from_frames(name, binned.frames, binned.t_start, track, binning.dt_us)


def concat_clips(
    name: str,
    clips: Sequence[torch.Tensor],
    labels: Sequence[int],
    dt_us: int,
    *,
    gap_bins: int = 0,
) -> LabelledSession:
    """Lay labelled clips ``[n_i, 2, H, W]`` end to end into one session, with ``gap_bins``
    empty, unlabelled bins between them (a stream of digits shown one after the other)."""
    if len(clips) != len(labels):
        raise ValueError(f"{len(clips)} clips but {len(labels)} labels")
    if not clips:
        raise ValueError(f"session {name!r}: no clips to concatenate")
    shape = tuple(clips[0].shape[1:])
    parts, label_parts, since_parts, segments = [], [], [], []
    position = 0
    gap = torch.zeros((gap_bins, *shape), dtype=torch.uint8)
    for i, (clip, label) in enumerate(zip(clips, labels, strict=True)):
        if tuple(clip.shape[1:]) != shape:
            raise ValueError(f"session {name!r}: clip {i} has frame shape "
                             f"{tuple(clip.shape[1:])}, expected {shape}")
        if i and gap_bins:
            parts.append(gap)
            label_parts.append(torch.full((gap_bins,), -1, dtype=torch.int64))
            since_parts.append(torch.full((gap_bins,), -1, dtype=torch.int64))
            position += gap_bins
        n = clip.shape[0]
        parts.append(frames_to_uint8(clip))
        label_parts.append(torch.full((n,), int(label), dtype=torch.int64))
        since_parts.append(torch.arange(n, dtype=torch.int64))
        segments.append(Segment(int(label), position, position + n))
        position += n
    return LabelledSession(
        name=name,
        frames=torch.cat(parts),
        labels=torch.cat(label_parts),
        since_onset=torch.cat(since_parts),
        segments=tuple(segments),
        dt_us=dt_us,
    )


def segment_clips(session: LabelledSession) -> list[tuple[torch.Tensor, int]]:
    """The frames of each labelled segment on its own (a whole trial), with its label."""
    return [(session.frames[s.start:s.end], s.label) for s in session.segments]
