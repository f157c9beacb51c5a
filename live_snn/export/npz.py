"""Per-step export data: the arrays of a :class:`~live_snn.view.history.StepHistory` written
to one ``.npz`` that loads with NumPy alone (``np.load(path)``, no pickle).

Keys (documented for users in docs/export.md; N = exported bins, K = classes, C = channels):

* ``bin`` int64 [N], ``t_start_us`` / ``t_end_us`` int64 [N] (source clock),
  ``t_start_s`` / ``t_end_s`` float64 [N] (seconds since the recording start), ``events`` int64 [N]
* ``scores`` / ``probs`` / ``smoothed`` float32 [N, K]
* ``label`` int64 [N], ``confidence`` float32 [N], ``uncertain`` / ``onset`` bool [N],
  ``ground_truth`` int64 [N] (-1 where unknown), ``class_names`` str [K]
* ``attention/<layer>/gate``, ``attention/<layer>/branch_a``, ``attention/<layer>/branch_b``
  float32 [N, C] for every attention layer
* ``spike_rate/<layer>`` float32 [N] for every spiking layer
* ``metadata``: a 0-d str array holding JSON (model hash, binning config, ...)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from live_snn.outputs import atomic_output
from live_snn.taps import ATTENTION_PARTS
from live_snn.view.history import StepHistory

FORMAT_NAME = "live_snn.export"
FORMAT_VERSION = 1
METADATA_KEY = "metadata"


def export_arrays(history: StepHistory, class_names: Sequence[str], *,
                  t0_us: int = 0) -> dict[str, np.ndarray]:
    """Every data key of the export (all but ``metadata``) from the bins ``history`` holds,
    in bin order; ``t0_us`` is the recording start of the ``*_s`` keys."""
    valid = history.column("valid").astype(bool)
    k = len(class_names)

    def column(name: str, dtype, width: tuple[int, ...] = ()) -> np.ndarray:
        if not len(history):
            return np.zeros((0, *width), dtype=dtype)
        return np.ascontiguousarray(history.column(name)[valid], dtype=dtype)

    out: dict[str, np.ndarray] = {
        "bin": history.first_bin + np.flatnonzero(valid).astype(np.int64),
        "t_start_us": column("t_start", np.int64),
        "t_end_us": column("t_end", np.int64),
        "events": column("events", np.int64),
        "label": column("label", np.int64),
        "confidence": column("confidence", np.float32),
        "uncertain": column("uncertain", bool),
        "onset": column("onset", bool),
        "ground_truth": column("ground_truth", np.int64),
        "class_names": np.asarray(tuple(class_names), dtype=str),
    }
    out["t_start_s"] = (out["t_start_us"] - int(t0_us)) / 1e6
    out["t_end_s"] = (out["t_end_us"] - int(t0_us)) / 1e6
    for key in ("scores", "probs", "smoothed"):
        out[key] = column(key, np.float32, (k,))
    for layer in history.attention_layers:
        for part in ATTENTION_PARTS:
            values = history.attention_column(layer, part)[valid]
            out[f"attention/{layer}/{part}"] = np.ascontiguousarray(values, dtype=np.float32)
    rates = column("spike_rates", np.float32, (len(history.spiking_layers),))
    for i, layer in enumerate(history.spiking_layers):
        out[f"spike_rate/{layer}"] = np.ascontiguousarray(rates[:, i])
    return out


def write_npz(path: str | Path, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> Path:
    """Write ``arrays`` plus ``metadata`` (JSON in a 0-d str array) to one compressed .npz.

    The file is written next to ``path`` and renamed into place, so a failure never leaves a
    half-written export behind."""
    path = Path(path)
    if METADATA_KEY in arrays:
        raise ValueError(f"'{METADATA_KEY}' is reserved for the JSON metadata")
    for key, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"array '{key}' has dtype object, which would need pickle to load")
    header = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **metadata}
    payload = dict(arrays)
    payload[METADATA_KEY] = np.asarray(json.dumps(header, default=_json_default))
    with atomic_output(path, "data") as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **payload)  # a file object keeps NumPy from appending '.npz'
    return path


def read_npz(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Load an export: ``(arrays, metadata)``. Uses NumPy only, never pickle."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    if METADATA_KEY not in arrays:
        raise ValueError(f"{path}: no '{METADATA_KEY}' entry; not a live_snn export")
    metadata = json.loads(str(arrays.pop(METADATA_KEY)))
    return arrays, metadata


def _json_default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"metadata value of type {type(value).__name__} is not JSON-serialisable")
