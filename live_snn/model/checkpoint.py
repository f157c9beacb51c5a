"""Checkpoints: weights in safetensors, everything needed to use them in its metadata.

Metadata: ``live_snn`` (the format tag) and, each as a JSON string, ``model_config``
(:class:`ModelConfig` fields), ``binning`` (:class:`BinningConfig`: ``dt_us``, sensor and
model resolution, crop, downscale), ``class_names``, ``training`` (data, schedule, seeds...),
``metrics``, ``readout`` (``logit_scale``: probabilities are ``softmax(logit_scale ·
scores)``; ``uncertain_below``: the confidence under which the live display says it is not
sure, 0 = never). Loading validates all of it and refuses a mismatch with what the caller expects,
naming both values. Pickle is never loaded: a ``torch.save`` file is recognised and refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from live_snn.binning import BinningConfig
from live_snn.errors import BinningError, CheckpointError, CheckpointMismatchError
from live_snn.events import Resolution
from live_snn.model.checkpoint_checks import (
    check_finite,
    check_sizes,
    check_tensor_shapes,
    parse_class_names,
    parse_readout,
)
from live_snn.model.config import ModelConfig
from live_snn.model.network import TCJASNN

FORMAT_TAG = "live_snn.checkpoint/1"
DEFAULT_READOUT = {"logit_scale": 10.0}
_REQUIRED = ("model_config", "binning", "class_names")
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit on the JSON header


@dataclass(frozen=True)
class CheckpointExpectation:
    """What the caller needs a checkpoint to be; ``None`` fields are not checked."""

    preset: str | None = None
    input_size: tuple[int, int] | None = None    # (H, W)
    T: int | None = None
    num_classes: int | None = None
    class_names: Sequence[str] | None = None
    dt_us: int | None = None
    attention: str | None = None

    @classmethod
    def of(cls, value: CheckpointExpectation | Mapping[str, Any]) -> CheckpointExpectation:
        if isinstance(value, CheckpointExpectation):
            return value
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise TypeError(f"unknown checkpoint expectations {unknown}; known: {sorted(known)}")
        return cls(**value)


@dataclass
class LoadedCheckpoint:
    model: TCJASNN                     # in eval mode, on the requested device
    config: ModelConfig
    binning: BinningConfig
    class_names: tuple[str, ...]
    metadata: dict[str, Any]           # every metadata entry, parsed from JSON
    sha256: str                        # of the file's bytes
    path: Path | None = None
    readout: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_READOUT))

    @property
    def logit_scale(self) -> float:
        return float(self.readout.get("logit_scale", DEFAULT_READOUT["logit_scale"]))

    @property
    def uncertain_below(self) -> float:
        """The model's own "uncertain" threshold, chosen on validation data when it was
        calibrated (``live-snn eval --calibrate-out``); 0 (never) for a model without one."""
        return float(self.readout.get("uncertain_below", 0.0))

    @property
    def uncertain_fitted_under(self) -> dict[str, Any]:
        """The smoothing the threshold was fitted under (``smoothing``, ``ema_tau_steps``,
        ``mean_window``, as recorded by the calibration); empty when not recorded."""
        record = self.readout.get("uncertain_calibration")
        if not isinstance(record, dict):
            return {}
        return {k: record[k] for k in ("smoothing", "ema_tau_steps", "mean_window") if k in record}

    @property
    def training(self) -> dict[str, Any]:
        return self.metadata.get("training") or {}

    @property
    def metrics(self) -> dict[str, Any]:
        return self.metadata.get("metrics") or {}


def save_checkpoint(
    path: str | os.PathLike,
    model: TCJASNN,
    *,
    binning: BinningConfig,
    class_names: Sequence[str],
    training: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    readout: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model``'s weights and metadata to ``path`` (atomically: a reader never sees a
    half-written file). Refuses metadata that contradicts the model."""
    path = Path(path)
    if getattr(model, "inference_fused", False):
        raise CheckpointMismatchError(
            "this model is the network's inference copy (fused_for_inference), whose "
            "BatchNorms are rewritten for inference: save the original network, whose weights "
            "a checkpoint holds")
    config: ModelConfig = model.config
    class_names = [str(c) for c in class_names]
    if len(class_names) != config.num_classes:
        raise CheckpointMismatchError(
            f"{len(class_names)} class names given for a model with {config.num_classes} "
            f"classes: {class_names}")
    h, w = config.input_size
    if (binning.model.width, binning.model.height) != (w, h):
        raise CheckpointMismatchError(
            f"binning model resolution {binning.model} does not match the network's input "
            f"{w}x{h} (W×H)")
    metadata = {
        "model_config": config.to_dict(),
        "binning": binning.as_dict(),
        "class_names": class_names,
        "training": dict(training or {}),
        "metrics": dict(metrics or {}),
        "readout": {**DEFAULT_READOUT, **dict(readout or {})},
    }
    encoded = {"live_snn": FORMAT_TAG,
               **{k: json.dumps(v, default=_json_default) for k, v in metadata.items()}}
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    data = save_safetensors(tensors, metadata=encoded)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def load_checkpoint(
    path: str | os.PathLike,
    *,
    device: torch.device | str = "cpu",
    expect: CheckpointExpectation | Mapping[str, Any] | None = None,
) -> LoadedCheckpoint:
    """Load a checkpoint written by :func:`save_checkpoint`; the model comes back in eval
    mode on ``device``. Raises :class:`CheckpointError` for anything that is not such a file
    and :class:`CheckpointMismatchError` when it differs from ``expect``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {path} does not exist") from None
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror}") from None
    header = _safetensors_header(path, data)
    raw = header.get("__metadata__") or {}
    if raw.get("live_snn") != FORMAT_TAG:
        raise CheckpointError(
            f"{path} is a safetensors file but not a live_snn checkpoint (metadata 'live_snn' "
            f"is {raw.get('live_snn')!r}, expected {FORMAT_TAG!r})")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks the metadata {missing}")
    metadata: dict[str, Any] = {"live_snn": FORMAT_TAG}
    for key, value in raw.items():
        if key == "live_snn":
            continue
        try:
            metadata[key] = json.loads(value)
        except (json.JSONDecodeError, TypeError):
            if key in _REQUIRED or key == "readout":
                raise CheckpointError(f"checkpoint {path}: metadata {key!r} is not JSON: "
                                      f"{str(value)[:80]!r}") from None
            metadata[key] = value
    try:
        config = ModelConfig.from_dict(metadata["model_config"])
    except (TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"checkpoint {path} has an invalid model config: {exc}") from None
    try:
        binning = BinningConfig.from_dict(metadata["binning"])
    except (BinningError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"checkpoint {path} has an invalid binning config: {exc}") from None
    # Everything the file claims is checked before anything is allocated for it.
    check_sizes(path, config, binning)
    class_names = parse_class_names(path, metadata["class_names"], config.num_classes)
    readout = parse_readout(path, metadata.get("readout"), DEFAULT_READOUT)
    _check_consistent(path, config, binning, class_names)
    if expect is not None:
        _check_expectation(path, config, binning, class_names, CheckpointExpectation.of(expect))
    check_tensor_shapes(path, config, header, TCJASNN)

    try:
        tensors = load_safetensors(data)
    except Exception as exc:  # safetensors raises its own error type for damaged data
        raise CheckpointError(f"checkpoint {path} has damaged tensor data: {exc}") from None
    check_finite(path, tensors)
    model = TCJASNN(config)
    _load_weights(path, model, tensors)
    model.eval().to(device)
    return LoadedCheckpoint(model, config, binning, class_names, metadata,
                            hashlib.sha256(data).hexdigest(), path, readout)


# ---- validation ------------------------------------------------------------------------------
def _safetensors_header(path: Path, data: bytes) -> dict[str, Any]:
    """The JSON header of a safetensors file, or a clear refusal of anything else."""
    if data[:4] == b"PK\x03\x04":
        raise CheckpointError(
            f"{path} is a zip archive, the format of torch.save (a pickle inside), not "
            "safetensors: live_snn never loads pickle files, since unpickling can run "
            "arbitrary code. Re-save the weights with safetensors (live_snn.model."
            "save_checkpoint) from a trusted environment")
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        raise CheckpointError(
            f"{path} is a Python pickle (pickle protocol {data[1]}, e.g. an old torch.save "
            "file), not safetensors: live_snn never loads pickle files, since unpickling can "
            "run arbitrary code. Re-save the weights with safetensors")
    if len(data) < 8:
        raise CheckpointError(f"{path} is not a safetensors file: only {len(data)} bytes")
    (size,) = struct.unpack("<Q", data[:8])
    if size > min(_MAX_HEADER, len(data) - 8) or data[8:9] != b"{":
        raise CheckpointError(
            f"{path} is not a safetensors file (its first 8 bytes {data[:8].hex()} are not a "
            "header length followed by a JSON header)")
    try:
        header = json.loads(data[8:8 + size])
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} has a damaged safetensors header: {exc}") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} has a damaged safetensors header (not a JSON object)")
    return header


def _check_consistent(path: Path, config: ModelConfig, binning: BinningConfig,
                      class_names: tuple[str, ...]) -> None:
    h, w = config.input_size
    if (binning.model.width, binning.model.height) != (w, h):
        raise CheckpointError(f"checkpoint {path} is inconsistent: binning model resolution "
                              f"{binning.model} but network input {w}x{h} (W×H)")
    if len(class_names) != config.num_classes:
        raise CheckpointError(f"checkpoint {path} is inconsistent: {len(class_names)} class "
                              f"names for {config.num_classes} classes")


def _check_expectation(path: Path, config: ModelConfig, binning: BinningConfig,
                       class_names: tuple[str, ...], expect: CheckpointExpectation) -> None:
    problems = []

    def differs(what: str, found: Any, wanted: Any) -> None:
        if wanted is not None and found != wanted:
            problems.append(f"{what} is {found!r} in the checkpoint but {wanted!r} was expected")

    differs("preset", config.preset, expect.preset)
    if expect.input_size is not None:
        wanted = tuple(int(v) for v in expect.input_size)
        if config.input_size != wanted:
            problems.append(
                f"input_size (H, W) is {config.input_size} in the checkpoint (resolution "
                f"{Resolution(config.input_size[1], config.input_size[0])}) but {wanted} was "
                "expected")
    differs("T", config.T, expect.T)
    differs("num_classes", config.num_classes, expect.num_classes)
    differs("attention", config.attention, expect.attention)
    differs("dt_us", binning.dt_us, expect.dt_us)
    if expect.class_names is not None:
        wanted_names = tuple(str(c) for c in expect.class_names)
        if wanted_names != class_names:
            diff = next((i for i, (a, b) in enumerate(zip(class_names, wanted_names, strict=False))
                         if a != b), min(len(class_names), len(wanted_names)))
            problems.append(
                f"class names differ from index {diff}: the checkpoint has {list(class_names)}, "
                f"expected {list(wanted_names)}")
    if problems:
        raise CheckpointMismatchError(f"checkpoint {path} does not match: " + "; ".join(problems))


def _load_weights(path: Path, model: TCJASNN, tensors: dict[str, torch.Tensor]) -> None:
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    if missing or unexpected:
        raise CheckpointError(
            f"checkpoint {path} does not hold the weights of its own model config: missing "
            f"{missing[:8]}{'...' if len(missing) > 8 else ''}, unexpected "
            f"{unexpected[:8]}{'...' if len(unexpected) > 8 else ''}")
    for name, tensor in tensors.items():
        if tuple(tensor.shape) != tuple(own[name].shape):
            raise CheckpointError(f"checkpoint {path}: weight {name} has shape "
                                  f"{tuple(tensor.shape)}, the model needs {tuple(own[name].shape)}")
    model.load_state_dict(tensors, strict=True)


def _json_default(value: Any) -> Any:
    """Metadata often holds NumPy scalars, tuples, paths and dataclasses from training code."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (Path, torch.dtype, torch.device)):
        return str(value)
    raise TypeError(f"checkpoint metadata value {value!r} of type {type(value).__name__} is "
                    "not JSON-serialisable")
