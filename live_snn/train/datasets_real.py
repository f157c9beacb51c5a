"""Recorded data sets as labelled sessions: N-MNIST, DVS128 Gesture (IBM layout) and plain
AEDAT4 files (labelled when a DVS128-Gesture-style ``NAME_labels.csv`` lies next to them).
Decoding is the sources package's; binning is the live binner's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from live_snn.binning import BinningConfig, bin_events
from live_snn.errors import SourceError
from live_snn.events import EventBatch
from live_snn.train.data import (
    DataSpec,
    _cache_key,
    _load_session,
    _save_session,
    bin_session,
    nmnist_clip_sessions,
    with_sensor,
)
from live_snn.train.sessions import LabelledSession

NMNIST_CLIP_US = 316_000  # N-MNIST samples last ~306-316 ms (three saccades)
HOLDOUT_SEED = 20_240_601  # fixed: every run holds out the same samples, whatever its seed


def read_all_events(path: Path) -> tuple[EventBatch, object]:
    """Every event of an AEDAT4 file (one batch) and the source, for its resolution."""
    from live_snn.sources.aedat4 import Aedat4Source

    with Aedat4Source(path) as source:
        batches = list(source)
        events = EventBatch.concatenate(batches) if batches else EventBatch.empty(
            source.resolution)
    return events, source


def sidecar_labels(path: Path):
    from live_snn.labels import read_labels_csv

    csv_path = path.with_name(path.stem + "_labels.csv")
    return read_labels_csv(csv_path) if csv_path.is_file() else None


def load_files(spec: DataSpec, binning: BinningConfig) -> list[LabelledSession]:
    sessions = []
    for path in spec.paths:
        events, source = read_all_events(path)
        if len(events) == 0:
            raise SourceError(f"{path} holds no events")
        file_binning = with_sensor(binning, source.resolution)
        sessions.append(bin_session(path.stem, events, sidecar_labels(path), file_binning,
                                    t0_us=events.t_first, t_end_us=events.t_last + 1))
    return sessions


def nmnist_clip(events: EventBatch, binning: BinningConfig) -> torch.Tensor:
    """One N-MNIST sample -> uint8 frames from t = 0, all of one length: the whole bins
    that cover :data:`NMNIST_CLIP_US` (a later event, rare, is cut)."""
    t_end = -(-NMNIST_CLIP_US // binning.dt_us) * binning.dt_us
    events = events.slice_time(0, t_end)
    binned = bin_events(events, binning, t0_us=0, t_end_us=t_end)
    return torch.from_numpy(np.minimum(binned.frames, 255).astype(np.uint8))


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


def load_dvs_gesture(spec: DataSpec, binning: BinningConfig, *, split: str,
                     cache_dir: Path | None) -> list[LabelledSession]:
    from live_snn.sources.dvs_gesture import DvsGestureDataset

    dataset = DvsGestureDataset(spec.path, split=split)
    count = len(dataset) if spec.limit is None else min(spec.limit, len(dataset))
    sessions = []
    for index in range(count):  # one recording (a whole session) at a time
        path = Path(dataset.files[index])
        key = _cache_key(f"dvsgesture:{path.resolve()}", binning)
        cached = cache_dir / f"{key}.safetensors" if cache_dir else None
        if cached is not None and cached.is_file():
            sessions.append(_load_session(cached))
            continue
        events, track = dataset[index]
        if len(events) == 0:
            raise SourceError(f"{path} holds no events")
        session = bin_session(path.stem, events, track, binning,
                              t0_us=events.t_first, t_end_us=events.t_last + 1)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            _save_session(cached, session)
        sessions.append(session)
    return sessions
