"""Training windows at random offsets of whole sessions.

Each window is ``length`` consecutive bins of one session. The first ``burn_in`` steps only
warm up the network state (membranes, attention rings) and carry no loss; after that every
labelled step is a target, except the first ``grace`` bins of a segment (the gesture has
barely started, no model can know it yet). Steps with no label are "rest" steps, which the
loss may push towards an even split between classes (see :mod:`live_snn.train.loss`).

Time-reversal augmentation (``time_reverse`` > 0): a drawn window is, with that probability,
played backwards: frames in reverse order with ON and OFF swapped (a pixel that got brighter
gets darker when time runs backwards), labels in reverse order and mapped through the data
set's ``reversed_class`` table (a clockwise circle backwards is a counter-clockwise one),
grace counted from the reversed segment's start (the original's end). Pairs of windows that
are the same in space and differ only in time order make a network use time order.

Onset windows (``onset_windows`` > 0): that fraction of the windows is placed on a gesture's
start instead of at a uniform offset, so that the start falls in the first half of the
window's loss steps. At uniform offsets the first few hundred ms of a gesture are a small
part of the loss; those are the steps that decide how soon a live user sees the right name.
A window played backwards is placed on a segment's end, which is its reversed start. Two
exceptions: a window that would run past the session's edge is moved inside it (the start
then lands elsewhere in the window, possibly in the burn-in), and a time-stretched window
(``augment`` stretch, drawn after the placement so that runs stay reproducible) shows the
start at step ``lead / speed`` instead of ``lead``.

Transfer augmentations (``augment``: event drop-out, noise, zoom and rotation, time
stretch; :mod:`live_snn.train.augment`) are drawn per window after everything above.

Offsets are drawn from a generator seeded with ``(seed, step, rank)``, so a run resumed at
step s draws exactly the windows the uninterrupted run would have drawn, and every DDP rank
draws different ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from live_snn.train import augment
from live_snn.train.augment import Augmentation, WindowAugmentation
from live_snn.train.sessions import LabelledSession, Segment


@dataclass(frozen=True)
class WindowSpec:
    length: int          # T: steps per window, burn-in included
    burn_in: int = 0     # leading steps without loss
    grace: int = 0       # bins after a segment start without loss
    max_shift: int = 0   # random translation of the whole window by up to this many pixels
    time_reverse: float = 0.0  # probability that a window is played backwards
    onset_windows: float = 0.0  # fraction of windows placed on a segment's start
    augment: Augmentation = field(default_factory=Augmentation)

    def __post_init__(self) -> None:
        object.__setattr__(self, "augment", Augmentation.of(self.augment))
        if self.length < 1:
            raise ValueError(f"window length must be >= 1 step, got {self.length}")
        if not 0 <= self.burn_in < self.length:
            raise ValueError(f"burn_in must be in [0, length={self.length}), got {self.burn_in}")
        if self.grace < 0 or self.max_shift < 0:
            raise ValueError(f"grace and max_shift must be >= 0, got {self.grace}, {self.max_shift}")
        if not 0.0 <= self.time_reverse <= 1.0:
            raise ValueError(f"time_reverse is a probability, got {self.time_reverse}")
        if not 0.0 <= self.onset_windows <= 1.0:
            raise ValueError(f"onset_windows is a fraction, got {self.onset_windows}")

    @property
    def loss_steps(self) -> int:
        return self.length - self.burn_in


@dataclass
class WindowBatch:
    frames: torch.Tensor     # float32 [T, B, 2, H, W]
    targets: torch.Tensor    # int64 [T, B], -1 where unlabelled
    loss_mask: torch.Tensor  # bool [T, B]: labelled, after burn-in and grace
    rest_mask: torch.Tensor  # bool [T, B]: unlabelled, after burn-in

    def to(self, device: torch.device | str) -> WindowBatch:
        return WindowBatch(*(t.to(device, non_blocking=True) for t in (
            self.frames, self.targets, self.loss_mask, self.rest_mask)))


class WindowSampler:
    """Draws batches of windows; every valid offset of every session is equally likely."""

    def __init__(
        self,
        sessions: Sequence[LabelledSession],
        spec: WindowSpec,
        *,
        seed: int,
        rank: int = 0,
        reversed_class: Sequence[int] | None = None,
    ):
        if not sessions:
            raise ValueError("no sessions to draw training windows from")
        if spec.time_reverse > 0 and reversed_class is None:
            raise ValueError("time_reverse needs the data set's reversed_class table (what "
                             "each class becomes played backwards)")
        shapes = {s.frame_shape for s in sessions}
        if len(shapes) != 1:
            raise ValueError(f"sessions differ in frame shape: {sorted(shapes)}")
        self.spec = spec
        self.seed = int(seed)
        self.rank = int(rank)
        self.sessions = [_pad_front(s, spec.length) for s in sessions]
        self._reversed_class: torch.Tensor | None = None
        self._bins_to_end: list[torch.Tensor] = []
        if spec.time_reverse > 0:
            # Label -1 (rest) stays -1 under the table: index -1 is the appended -1.
            self._reversed_class = torch.tensor([*reversed_class, -1], dtype=torch.int64)
            self._bins_to_end = [_bins_to_end(s) for s in self.sessions]
        valid = np.array([len(s) - spec.length + 1 for s in self.sessions], dtype=np.int64)
        self._first_offset = np.concatenate([[0], np.cumsum(valid)])
        self.total_bins = int(sum(len(s) for s in sessions))
        # Every segment of every (padded) session: (session index, start, end).
        self._segments = np.array([(i, seg.start, seg.end) for i, s in enumerate(self.sessions)
                                   for seg in s.segments], dtype=np.int64).reshape(-1, 3)
        if spec.onset_windows > 0 and not len(self._segments):
            raise ValueError("onset_windows needs labelled segments in the training data")

    @property
    def num_offsets(self) -> int:
        return int(self._first_offset[-1])

    def steps_per_epoch(self, batch_size: int, world_size: int = 1) -> int:
        """Optimiser steps for the loss to cover as many bins as the data set holds."""
        per_step = batch_size * world_size * self.spec.loss_steps
        return max(1, -(-self.total_bins // per_step))

    def batch(self, step: int, batch_size: int) -> WindowBatch:
        rng = np.random.default_rng([self.seed, int(step), self.rank])
        flat = rng.integers(0, self.num_offsets, size=batch_size)
        which = np.searchsorted(self._first_offset, flat, side="right") - 1
        offsets = flat - self._first_offset[which]
        shifts = rng.integers(-self.spec.max_shift, self.spec.max_shift + 1, size=(batch_size, 2))
        # Drawn only when asked for, so runs without it keep their exact windows.
        backwards = (rng.random(batch_size) < self.spec.time_reverse
                     if self.spec.time_reverse > 0 else None)
        if self.spec.onset_windows > 0:
            which, offsets = self._place_on_onsets(rng, which, offsets, backwards)
        if not self.spec.augment.active:
            return self.gather(which, offsets, shifts, backwards)
        drawn = WindowAugmentation.draw(self.spec.augment, rng, batch_size, self.sessions[0].dt_us)
        windows = self.gather(which, offsets, shifts, backwards, speeds=drawn.speed)
        windows.frames = augment.apply(windows.frames, drawn)
        return windows

    def _place_on_onsets(self, rng: np.random.Generator, which: np.ndarray,
                         offsets: np.ndarray, backwards: np.ndarray | None
                         ) -> tuple[np.ndarray, np.ndarray]:
        spec = self.spec
        n = which.size
        placed = rng.random(n) < spec.onset_windows
        seg = self._segments[rng.integers(0, len(self._segments), size=n)]
        # Where the (possibly reversed) segment start lands among the loss steps.
        lead = spec.burn_in + rng.integers(0, max(1, spec.loss_steps // 2), size=n)
        start_at = seg[:, 1] - lead
        if backwards is not None:  # reversed, position i is original bin length - 1 - i
            start_at = np.where(backwards, seg[:, 2] - spec.length + lead, start_at)
        last = np.array([len(s) - spec.length for s in self.sessions])[seg[:, 0]]
        start_at = np.clip(start_at, 0, last)
        return (np.where(placed, seg[:, 0], which), np.where(placed, start_at, offsets))

    def gather(self, which: np.ndarray, offsets: np.ndarray,
               shifts: np.ndarray | None = None,
               backwards: np.ndarray | None = None,
               speeds: np.ndarray | None = None) -> WindowBatch:
        spec = self.spec
        if backwards is not None and backwards.any() and self._reversed_class is None:
            raise ValueError("windows played backwards need a spec with time_reverse > 0")
        frames, labels, since = [], [], []
        for b, (si, off) in enumerate(zip(which, offsets, strict=True)):  # over the batch
            s = self.sessions[int(si)]
            span = slice(off, off + spec.length)
            if speeds is not None and speeds[b] != 1.0:  # time stretch: resampled bins
                span = torch.from_numpy(np.minimum(off + augment.stretched_bins(spec.length, speeds[b]),
                                                   len(s) - 1))
            clip, label, since_onset = s.frames[span], s.labels[span], s.since_onset[span]
            if backwards is not None and backwards[b]:
                clip = clip.flip(0)[:, [1, 0]]                    # [T, (ON, OFF)]
                label = self._reversed_class[label.flip(0)]
                since_onset = self._bins_to_end[int(si)][span].flip(0)
            if shifts is not None and (shifts[b] != 0).any():
                clip = _shift(clip, int(shifts[b, 0]), int(shifts[b, 1]))
            frames.append(clip)
            labels.append(label)
            since.append(since_onset)
        x = torch.stack(frames, dim=1).float()
        targets = torch.stack(labels, dim=1)
        since_onset = torch.stack(since, dim=1)
        after_burn_in = (torch.arange(spec.length) >= spec.burn_in)[:, None]
        loss_mask = after_burn_in & (targets >= 0) & (since_onset >= spec.grace)
        rest_mask = after_burn_in & (targets < 0)
        return WindowBatch(x, targets, loss_mask, rest_mask)


def _pad_front(session: LabelledSession, length: int) -> LabelledSession:
    """A session shorter than one window gets empty, unlabelled bins in front."""
    missing = length - len(session)
    if missing <= 0:
        return session
    shape = session.frame_shape
    return LabelledSession(
        name=session.name,
        frames=torch.cat([torch.zeros((missing, *shape), dtype=torch.uint8), session.frames]),
        labels=torch.cat([torch.full((missing,), -1, dtype=torch.int64), session.labels]),
        since_onset=torch.cat([torch.full((missing,), -1, dtype=torch.int64),
                               session.since_onset]),
        segments=tuple(Segment(s.label, s.start + missing, s.end + missing)
                       for s in session.segments),
        dt_us=session.dt_us,
    )


def _bins_to_end(session: LabelledSession) -> torch.Tensor:
    """For each labelled bin, how many bins its segment still has after it (-1 unlabelled):
    the bins since the segment's start once the session is played backwards."""
    to_end = torch.full((len(session),), -1, dtype=torch.int64)
    for seg in session.segments:  # a session holds a handful of segments
        to_end[seg.start:seg.end] = torch.arange(seg.end - seg.start - 1, -1, -1)
    return to_end


def _shift(clip: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Translate ``[T, 2, H, W]`` frames, filling with no events (not wrapping around)."""
    out = torch.zeros_like(clip)
    h, w = clip.shape[-2:]
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[..., yd, xd] = clip[..., ys, xs]
    return out
