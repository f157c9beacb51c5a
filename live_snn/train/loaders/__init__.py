"""Data sets → labelled sessions, one loader per kind of source; :func:`load_sessions` picks
the one a :class:`~live_snn.train.data_spec.DataSpec` names.

Every loader bins with the live binner (``bin_events``: the frames a model is trained on are
the frames it sees live). The loaders of data that is slow to make (simulated sessions,
DVS128 Gesture recordings) keep their sessions in a
:class:`~live_snn.train.session_cache.SessionCache`; N-MNIST samples and plain files are
binned afresh (they are quick to bin, and N-MNIST's training set would fill gigabytes).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from live_snn.binning import BinningConfig
from live_snn.train.data_spec import DataSpec, DataSpecError
from live_snn.train.session_cache import SessionCache
from live_snn.train.sessions import LabelledSession


def load_sessions(spec: DataSpec, binning: BinningConfig, *, split: str = "train",
                  cache_dir: Path | None = None, workers: int = 1, seed: int = 0,
                  class_names: Sequence[str] | None = None) -> list[LabelledSession]:
    """Every session of ``spec`` (``split`` = "train" | "test" for the data sets that have
    an official split; "val" for the samples that ``holdout`` keeps out of "train"), binned
    with ``binning`` adapted to the data's sensor. ``class_names``: the labels' classes, for
    data whose classes are named per folder (teach; default: the data's own)."""
    if split == "val" and not spec.holdout:
        raise DataSpecError(f"split 'val' needs a held-out part: add holdout=N to the "
                            f"{spec.kind} data spec")
    binning = binning.for_sensor(spec.sensor)
    cache = SessionCache(cache_dir)
    # Each loader imports what it reads with (the simulator, dv-processing) when it runs.
    if spec.kind == "sim":
        from live_snn.train.loaders.simulated import load_simulated

        return load_simulated(spec, binning, cache=cache, workers=workers)
    if spec.kind == "nmnist":
        from live_snn.train.loaders.nmnist import load_nmnist

        return load_nmnist(spec, binning, split=split, seed=seed)
    if spec.kind == "dvsgesture":
        from live_snn.train.loaders.dvs_gesture import load_dvs_gesture

        return load_dvs_gesture(spec, binning, split=split, cache=cache)
    if spec.kind == "files":
        from live_snn.train.loaders.files import load_files

        return load_files(spec, binning)
    if spec.kind == "teach":
        from live_snn.train.loaders.teach import load_teach

        return load_teach(spec.paths, binning, class_names or spec.class_names)
    raise DataSpecError(f"unknown data kind {spec.kind!r}")
