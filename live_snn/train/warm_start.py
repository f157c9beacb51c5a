"""Start a training run from the weights of an earlier checkpoint (``--init-from``).

For continuing a model on more data or a longer schedule, or fine-tuning one data set's
model on another with the same classes. Unlike ``--resume`` it starts a new run: a new
optimiser, step 0 of a new schedule, the new run's data; only the weights carry over.

The network must be the same network: every :class:`ModelConfig` field that shapes the
weights or what they compute has to match, and so must the binning (``dt`` and resolution)
and the classes. Only training-time fields may differ (``dropout``; ``T`` unless the
attention is the ``window`` mode, whose weights depend on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from live_snn.binning import BinningConfig
from live_snn.errors import CheckpointMismatchError
from live_snn.model import load_checkpoint
from live_snn.model.network import TCJASNN

TRAINING_ONLY_FIELDS = ("dropout",)


def init_from_checkpoint(model: TCJASNN, path: str | Path, binning: BinningConfig,
                         class_names: Sequence[str]) -> dict[str, Any]:
    """Copy the weights of the checkpoint at ``path`` into ``model`` (built for the new run)
    after checking that it is the same network on the same binning and classes. Returns what
    the new checkpoint records about its origin: the whole chain, since the earlier
    checkpoint's own origin (if it had one) is nested inside."""
    loaded = load_checkpoint(path)
    ignored = set(TRAINING_ONLY_FIELDS)
    if model.config.attention != "window":
        ignored.add("T")
    ours, theirs = model.config.to_dict(), loaded.config.to_dict()
    problems = [f"{name} is {theirs[name]!r} there but {ours[name]!r} here"
                for name in ours if name not in ignored and ours[name] != theirs[name]]
    if loaded.binning.dt_us != binning.dt_us:
        problems.append(f"bins of {loaded.binning.dt_us} µs there but {binning.dt_us} µs here")
    if loaded.binning.model != binning.model:
        problems.append(f"model input {loaded.binning.model} there but {binning.model} here")
    if tuple(loaded.class_names) != tuple(class_names):
        problems.append(f"classes {list(loaded.class_names)} there but {list(class_names)} here")
    if problems:
        raise CheckpointMismatchError(
            f"cannot start from {path}: it is not the network this run trains ("
            + "; ".join(problems) + ")")
    model.load_state_dict(loaded.model.state_dict())
    return {"path": str(path), "sha256": loaded.sha256,
            "steps": loaded.training.get("steps"), "data": loaded.training.get("dataset"),
            "seeds": loaded.training.get("seeds"),
            "predictor": loaded.readout.get("predictor"),  # its own smoothing, kept by default
            "init_from": loaded.training.get("init_from")}
