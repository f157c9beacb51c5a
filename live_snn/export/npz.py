"""Per-step export data: collect the engine's Prediction records into arrays and write them
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

from live_snn.engine.records import ATTENTION_PARTS, Prediction

FORMAT_NAME = "live_snn.export"
FORMAT_VERSION = 1
METADATA_KEY = "metadata"


class PredictionArrays:
    """Accumulates Prediction records (one per bin, in bin order) for :func:`write_npz`.

    Layers are fixed by the first record (or by the constructor), so that a record missing
    a layer is an error naming the bin instead of a ragged array at the end."""

    def __init__(self, class_names: Sequence[str], *, t0_us: int = 0,
                 attention_layers: Sequence[str] | None = None,
                 spiking_layers: Sequence[str] | None = None):
        self.class_names = tuple(class_names)
        self.t0_us = int(t0_us)
        self._attention_layers = None if attention_layers is None else tuple(attention_layers)
        self._spiking_layers = None if spiking_layers is None else tuple(spiking_layers)
        self._scalars: dict[str, list] = {
            key: [] for key in ("bin", "t_start_us", "t_end_us", "events", "label", "confidence",
                                "uncertain", "onset", "ground_truth")
        }
        self._vectors: dict[str, list[np.ndarray]] = {"scores": [], "probs": [], "smoothed": []}
        self._attention: dict[tuple[str, str], list[np.ndarray]] = {}
        self._spike_rates: dict[str, list[float]] = {}

    def __len__(self) -> int:
        return len(self._scalars["bin"])

    @property
    def attention_layers(self) -> tuple[str, ...]:
        return self._attention_layers or ()

    @property
    def spiking_layers(self) -> tuple[str, ...]:
        return self._spiking_layers or ()

    def add(self, prediction: Prediction) -> None:
        k = len(self.class_names)
        if np.shape(prediction.probs) != (k,):
            raise ValueError(
                f"bin {prediction.bin}: {np.size(prediction.probs)} class probabilities, "
                f"expected {k} ({', '.join(self.class_names)})"
            )
        if self._attention_layers is None:
            self._attention_layers = tuple(prediction.attention)
        if self._spiking_layers is None:
            self._spiking_layers = tuple(prediction.spike_rates)
        missing = [name for name in self._attention_layers if name not in prediction.attention]
        missing += [name for name in self._spiking_layers if name not in prediction.spike_rates]
        if missing:
            raise ValueError(f"bin {prediction.bin}: no taps for layer(s) {', '.join(missing)}")
        for key, values in self._scalars.items():
            values.append(getattr(prediction, key))
        for key, values in self._vectors.items():
            values.append(np.asarray(getattr(prediction, key), dtype=np.float32))
        for layer in self._attention_layers:
            parts = prediction.attention[layer]
            for part in ATTENTION_PARTS:
                self._attention.setdefault((layer, part), []).append(
                    np.asarray(parts[part], dtype=np.float32).reshape(-1)
                )
        for layer in self._spiking_layers:
            self._spike_rates.setdefault(layer, []).append(float(prediction.spike_rates[layer]))

    def arrays(self) -> dict[str, np.ndarray]:
        """Every data key of the export (all but ``metadata``), stacked over the bins."""
        k = len(self.class_names)
        s = self._scalars
        out: dict[str, np.ndarray] = {
            "bin": np.asarray(s["bin"], dtype=np.int64),
            "t_start_us": np.asarray(s["t_start_us"], dtype=np.int64),
            "t_end_us": np.asarray(s["t_end_us"], dtype=np.int64),
            "events": np.asarray(s["events"], dtype=np.int64),
            "label": np.asarray(s["label"], dtype=np.int64),
            "confidence": np.asarray(s["confidence"], dtype=np.float32),
            "uncertain": np.asarray(s["uncertain"], dtype=bool),
            "onset": np.asarray(s["onset"], dtype=bool),
            "ground_truth": np.asarray(s["ground_truth"], dtype=np.int64),
            "class_names": np.asarray(self.class_names, dtype=str),
        }
        out["t_start_s"] = (out["t_start_us"] - self.t0_us) / 1e6
        out["t_end_s"] = (out["t_end_us"] - self.t0_us) / 1e6
        for key, values in self._vectors.items():
            out[key] = np.stack(values) if values else np.zeros((0, k), np.float32)
        for layer in self.attention_layers:
            for part in ATTENTION_PARTS:
                values = self._attention.get((layer, part), [])
                out[f"attention/{layer}/{part}"] = (
                    np.stack(values) if values else np.zeros((0, 0), np.float32)
                )
        for layer in self.spiking_layers:
            out[f"spike_rate/{layer}"] = np.asarray(self._spike_rates.get(layer, []), np.float32)
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
    tmp = path.with_name(f".{path.name}.partial")
    try:
        with open(tmp, "wb") as fh:  # a file object keeps NumPy from appending '.npz'
            np.savez_compressed(fh, **payload)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
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
