"""N-MNIST: each sample binned on its own from t = 0 to a fixed length, then laid end to end
with others, in a seeded random order, into streams of ``per_session`` digits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from live_snn.binning import BinningConfig, bin_events, bins_in
from live_snn.errors import SourceError
from live_snn.events import EventBatch
from live_snn.train.data_spec import DataSpec
from live_snn.train.sessions import LabelledSession, concat_clips

NMNIST_CLIP_US = 316_000  # N-MNIST samples last ~306-316 ms (three saccades)
HOLDOUT_SEED = 20_240_601  # fixed: every run holds out the same samples, whatever its seed


def nmnist_clip(events: EventBatch, binning: BinningConfig) -> torch.Tensor:
    """One N-MNIST sample -> uint8 frames from t = 0, all of one length: the whole bins
    that cover :data:`NMNIST_CLIP_US` (a later event, rare, is cut)."""
    t_end = bins_in(NMNIST_CLIP_US, binning.dt_us) * binning.dt_us
    events = events.slice_time(0, t_end)
    binned = bin_events(events, binning, t0_us=0, t_end_us=t_end)
    return torch.from_numpy(np.minimum(binned.frames, 255).astype(np.uint8))


def nmnist_clip_sessions(clips: Sequence[torch.Tensor], labels: Sequence[int], dt_us: int,
                         *, per_session: int, seed: int, prefix: str) -> list[LabelledSession]:
    """Shuffle (seeded) and lay ``per_session`` clips end to end per stream."""
    order = np.random.default_rng(seed).permutation(len(clips))
    return [
        concat_clips(f"{prefix}-{i // per_session}", [clips[j] for j in order[i:i + per_session]],
                     [int(labels[j]) for j in order[i:i + per_session]], dt_us)
        for i in range(0, len(order), per_session)
    ]


def load_nmnist(spec: DataSpec, binning: BinningConfig, *, split: str, seed: int
                ) -> list[LabelledSession]:
    from live_snn.sources.nmnist import NmnistDataset

    dataset = NmnistDataset(spec.path, split="Test" if split == "test" else "Train")
    n = len(dataset) if spec.limit is None else min(spec.limit, len(dataset))
    indices = range(n)
    if split in ("train", "val") and spec.holdout:
        if spec.holdout >= n:
            raise SourceError(f"holdout={spec.holdout} leaves no training sample of {n}")
        held_out = np.random.default_rng(HOLDOUT_SEED).permutation(n)[:spec.holdout]
        keep = np.isin(np.arange(n), held_out) == (split == "val")
        indices = np.flatnonzero(keep).tolist()
    clips, labels = [], []
    for i in indices:  # one sample at a time; each sample is binned vectorised
        events, label = dataset[i]
        clips.append(nmnist_clip(events, binning))
        labels.append(int(label))
    return nmnist_clip_sessions(clips, labels, binning.dt_us, per_session=spec.per_session,
                                seed=seed, prefix=f"nmnist-{split}")
