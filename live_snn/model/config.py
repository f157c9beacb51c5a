"""The network's configuration: every size and kernel, filled in from a preset (``paper``:
the published DVS128 Gesture TCJA-SNN; ``lite``: 64×64 input, 64 channels, real time on a
2-core CPU; ``nmnist``), validated at construction and stored in checkpoints as a dict."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

ATTENTION_KINDS = ("causal", "window", "tim", "none")
ENCODER_KINDS = ("plain", "gac")

# What each preset fills in; explicit ModelConfig fields override.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {"input_size": (128, 128), "channels": 128, "num_blocks": 5, "hidden": 512,
              "num_classes": 11, "T": 20},
    "lite": {"input_size": (64, 64), "channels": 64, "num_blocks": 5, "hidden": 256,
             "num_classes": 11, "T": 20},
    "nmnist": {"input_size": (34, 34), "channels": 32, "num_blocks": 3, "hidden": 128,
               "num_classes": 10, "T": 10},
}


@dataclass(frozen=True)
class ModelConfig:
    """Every size and kernel of the network. Fields left ``None`` come from the preset;
    ``attention_blocks`` defaults to the last two blocks (0-based; ``paper``: (3, 4))."""

    preset: str = "lite"
    in_channels: int = 2                      # polarity channels of a frame (OFF, ON)
    input_size: tuple[int, int] | None = None  # (H, W) of a frame
    channels: int | None = None               # channels of every conv block
    num_blocks: int | None = None             # conv blocks, each halving H and W
    attention: str = "causal"                 # "causal" | "window" | "tim" | "none"
    attention_blocks: tuple[int, ...] | None = None
    encoder: str = "plain"                    # "plain" | "gac" (GAC on block 0)
    tim_blocks: tuple[int, ...] = ()          # TIM beside the attention (before it)
    kernel_t: int = 4                         # TCJA temporal kernel (K of causal branch A)
    kernel_c: int = 4                         # TCJA channel kernel
    lags_c: int = 4                           # causal branch B: lags L
    T: int | None = None                      # training window; the window of "window" mode
    hidden: int | None = None                 # hidden FC width
    num_classes: int | None = None
    voting: int = 10                          # output neurons per class
    tau: float = 2.0
    v_threshold: float = 1.0
    dropout: float = 0.5
    surrogate_alpha: float = 2.0
    gac_kernel: int = 3
    gac_reduction: int = 4
    gac_ema_decay: float = 0.5
    tim_alpha: float = 0.5
    tim_kernel: int = 3
    tim_out_threshold: float = 0.25

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; expected one of {sorted(PRESETS)}")
        for name, value in PRESETS[self.preset].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        object.__setattr__(self, "input_size", tuple(int(v) for v in self.input_size))
        if self.attention_blocks is None:
            last_two = tuple(range(max(0, self.num_blocks - 2), self.num_blocks))
            object.__setattr__(self, "attention_blocks", last_two)
        object.__setattr__(self, "attention_blocks", tuple(int(b) for b in self.attention_blocks))
        object.__setattr__(self, "tim_blocks", tuple(int(b) for b in self.tim_blocks))
        self._validate()

    def _validate(self) -> None:
        if self.attention not in ATTENTION_KINDS:
            raise ValueError(f"attention={self.attention!r}; expected one of {ATTENTION_KINDS}")
        if self.encoder not in ENCODER_KINDS:
            raise ValueError(f"encoder={self.encoder!r}; expected one of {ENCODER_KINDS}")
        positive = ("in_channels", "channels", "num_blocks", "kernel_t", "kernel_c", "lags_c",
                    "T", "hidden", "num_classes", "voting", "gac_kernel", "gac_reduction",
                    "tim_kernel")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.num_blocks > 30:  # before 2 ** num_blocks below: a damaged file may say 10**9
            raise ValueError(f"num_blocks must be <= 30, got {self.num_blocks}")
        h, w = self.input_size
        if min(h, w) < 2 ** self.num_blocks:
            raise ValueError(f"input_size {self.input_size} is too small for {self.num_blocks} "
                             f"blocks (each halves H and W): need at least {2 ** self.num_blocks}")
        for field_name in ("attention_blocks", "tim_blocks"):
            bad = [b for b in getattr(self, field_name) if not 0 <= b < self.num_blocks]
            if bad:
                raise ValueError(f"{field_name} {bad} out of range for {self.num_blocks} blocks "
                                 f"(0-based)")
        if self.attention == "tim" and set(self.attention_blocks) & set(self.tim_blocks):
            raise ValueError(f"blocks {sorted(set(self.attention_blocks) & set(self.tim_blocks))}"
                             " get TIM twice (attention='tim' and tim_blocks)")
        for name in ("tim_kernel", "gac_kernel"):
            if getattr(self, name) % 2 != 1:
                raise ValueError(f"{name} must be odd ('same' padding), got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.tau <= 1.0:
            raise ValueError(f"tau must be > 1, got {self.tau}")

    @property
    def streams_by_step(self) -> bool:
        return self.attention != "window"

    def to_dict(self) -> dict[str, Any]:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown model config fields {unknown}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)
