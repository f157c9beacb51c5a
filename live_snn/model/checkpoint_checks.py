"""What a checkpoint's metadata may claim, checked before anything is allocated for it.

A checkpoint is a file from anywhere: its sizes decide how much memory the network takes, its
``dt_us`` how many bins a recording becomes, its class names what reaches the terminal. So
every size and ``dt_us`` must lie in a plausible range, the weights the file holds must be
exactly the ones its config needs (compared as shapes on PyTorch's ``meta`` device, which
allocates nothing), every weight must be finite, the class names must be a JSON list of
printable, distinct names, one per class, and the readout must be numbers in range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from live_snn.binning import BinningConfig
from live_snn.errors import CheckpointError
from live_snn.model.config import ModelConfig

# Inclusive ranges; the presets sit well inside them (paper: 128 channels, 128x128, T 20).
SIZE_RANGES: dict[str, tuple[int, int]] = {
    "in_channels": (1, 16), "channels": (1, 1024), "num_blocks": (1, 10),
    "hidden": (1, 16384), "num_classes": (1, 1000), "voting": (1, 100), "T": (1, 10_000),
    "kernel_t": (1, 64), "kernel_c": (1, 64), "lags_c": (1, 64), "gac_kernel": (1, 31),
    "gac_reduction": (1, 1024), "tim_kernel": (1, 31),
}
INPUT_SIDE_RANGE = (2, 1024)
DT_US_RANGE = (100, 10_000_000)          # 0.1 ms .. 10 s bins
LOGIT_SCALE_RANGE = (1e-3, 1e4)
MAX_CLASS_NAME_CHARS = 64
PREDICTOR_NUMBERS = {"ema_tau_steps": (1.0, 1e4), "onset_steps": (1, 10_000),
                     "mean_window": (1, 10_000)}
PREDICTOR_COUNTS = ("onset_steps", "mean_window")  # whole steps


def _bad(path: Path, what: str) -> CheckpointError:
    return CheckpointError(f"checkpoint {path}: {what}")


def check_sizes(path: Path, config: ModelConfig, binning: BinningConfig) -> None:
    """Every size of the network and the bin length within a plausible range."""
    for name, (low, high) in SIZE_RANGES.items():
        value = getattr(config, name)
        if not low <= int(value) <= high:
            raise _bad(path, f"model config {name}={value} is outside the plausible range "
                             f"{low}..{high}")
    low, high = INPUT_SIDE_RANGE
    if not all(low <= side <= high for side in config.input_size):
        raise _bad(path, f"model input_size {config.input_size} is outside {low}..{high} "
                         "pixels a side")
    low, high = DT_US_RANGE
    if not low <= binning.dt_us <= high:
        raise _bad(path, f"binning dt_us={binning.dt_us} is outside the plausible range "
                         f"{low}..{high} us (0.1 ms to 10 s bins)")


def check_tensor_shapes(path: Path, config: ModelConfig, header: Mapping[str, Any],
                        network: type[torch.nn.Module]) -> None:
    """The tensors the safetensors header lists are exactly those of ``network(config)``,
    shape for shape (the network is built on the meta device: no memory)."""
    with torch.device("meta"):
        wanted = {k: tuple(v.shape) for k, v in network(config).state_dict().items()}
    held = {k: tuple(v.get("shape", ())) for k, v in header.items()
            if k != "__metadata__" and isinstance(v, Mapping)}
    missing = sorted(set(wanted) - set(held))
    unexpected = sorted(set(held) - set(wanted))
    if missing or unexpected:
        raise _bad(path, f"does not hold the weights of its own model config: missing "
                         f"{missing[:8]}{'...' if len(missing) > 8 else ''}, unexpected "
                         f"{unexpected[:8]}{'...' if len(unexpected) > 8 else ''}")
    for name, shape in wanted.items():
        if held[name] != shape:
            raise _bad(path, f"weight {name} has shape {held[name]}, the model needs {shape}")


def check_finite(path: Path, tensors: Mapping[str, torch.Tensor]) -> None:
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise _bad(path, f"weight {name} holds {bad} NaN or infinite values: the model "
                             "would predict nonsense")


def parse_class_names(path: Path, value: Any, num_classes: int) -> tuple[str, ...]:
    """A JSON list of ``num_classes`` distinct, printable, non-empty names."""
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise _bad(path, f"class_names must be a JSON list of strings, got "
                         f"{_shown(value)}")
    for index, name in enumerate(value):
        if not name.strip() or len(name) > MAX_CLASS_NAME_CHARS or not name.isprintable():
            raise _bad(path, f"class name {index} ({name!r}) must be 1..{MAX_CLASS_NAME_CHARS} "
                             "printable characters")
    if len(set(value)) != len(value):
        raise _bad(path, f"class names repeat: {value}")
    if len(value) != num_classes:
        raise _bad(path, f"is inconsistent: {len(value)} class names for {num_classes} classes")
    return tuple(value)


def parse_readout(path: Path, value: Any, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The readout metadata: a JSON object whose numbers are finite and in range."""
    if value is None:
        return dict(defaults)
    if not isinstance(value, dict):
        raise _bad(path, f"readout must be a JSON object, got {_shown(value)}")
    readout = {**defaults, **value}
    _check_number(path, "readout logit_scale", readout["logit_scale"], *LOGIT_SCALE_RANGE)
    if "uncertain_below" in readout:
        _check_number(path, "readout uncertain_below", readout["uncertain_below"], 0.0, 1.0)
    if "grace_ms" in readout:
        _check_number(path, "readout grace_ms", readout["grace_ms"], 0.0, 1e7)
    predictor = readout.get("predictor")
    if predictor is not None:
        if not isinstance(predictor, dict):
            raise _bad(path, f"readout predictor must be a JSON object, got {_shown(predictor)}")
        if predictor.get("smoothing", "ema") not in ("ema", "mean"):
            raise _bad(path, f"readout predictor smoothing {predictor['smoothing']!r} is not "
                             "'ema' or 'mean'")
        for key, (low, high) in PREDICTOR_NUMBERS.items():
            if key in predictor:
                _check_number(path, f"readout predictor {key}", predictor[key], low, high)
        for key in PREDICTOR_COUNTS:
            if key in predictor and predictor[key] != int(predictor[key]):
                raise _bad(path, f"readout predictor {key} is {_shown(predictor[key])}, "
                                 "expected a whole number of steps")
    return readout


def _check_number(path: Path, what: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or not low <= value <= high:
        raise _bad(path, f"{what} is {_shown(value)}, expected a number in {low:g}..{high:g}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
