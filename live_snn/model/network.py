"""The TCJA spiking network: its blocks and the whole network (its configuration is
:class:`~live_snn.model.config.ModelConfig`).

Preset ``paper`` is the published DVS128 Gesture TCJA-SNN (Zhu et al., reference code
``ridgerchu/TCJA`` src/dvs128.py ``CextNet``): five blocks Conv3×3(128, no bias) → BN → LIF
→ [TCJA in blocks 4 and 5] → MaxPool2, then Flatten → Dropout(0.5) → Linear(2048→512, no
bias) → LIF → Dropout(0.5) → Linear(512→110, no bias) → LIF → voting (mean of each class's
10 output neurons → 11 scores). With ``attention="window"`` it is exactly that network;
every preset defaults to ``attention="causal"``, the mode that streams one step per bin.

Contract (docs/architecture.md)::

    model = build_model(ModelConfig(preset="lite", attention="causal"))
    scores_seq = model(x_seq)                         # [T, B, 2, H, W] -> [T, B, K]
    scores_seq, taps_seq = model(x_seq, return_taps=True)   # taps with a leading T axis
    state = model.init_state(batch_size=B)
    scores_t, state, taps = model.step(x_t, state)    # [B, 2, H, W] -> [B, K]

Input is raw event counts per bin (float, >= 0, can be dozens): the BatchNorm after the
first convolution sets the scale.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor, nn

from live_snn.model.attention import TIM, ModuleState, TCJACausal, TCJAWindow
from live_snn.model.config import ModelConfig
from live_snn.model.encoder import GAC
from live_snn.model.inference import (
    BFloat16Conv,
    EvalBatchNorm,
    eval_batch_norm_is_exact,
    fold_batch_norm,
    max_pool_2x2,
)
from live_snn.model.neuron import LIF, spike_rate
from live_snn.model.state import AttentionTap, ModelState, StepTaps, feature_map_zeros
from live_snn.precision import CONV_DTYPES


def make_lif(cfg: ModelConfig, *, v_threshold: float | None = None) -> LIF:
    return LIF(cfg.tau, cfg.v_threshold if v_threshold is None else v_threshold,
               cfg.surrogate_alpha)


class ConvBlock(nn.Module):
    """Conv3×3 (no bias) → BatchNorm → LIF → [TIM] → [GAC] → [TCJA] → MaxPool2.

    TIM (spikes in, spikes out) comes first, so that it sees binary spikes; the multiplicative
    gates (GAC on block 0, TCJA) come after it, as TCJA follows the LIF in the paper.

    ``run`` is written once for both paths: ``seq=True`` on [T, B, C, H, W] (convolutions
    over T·B folded into the batch, LIF loop over T) and ``seq=False`` on [B, C, H, W]."""

    def __init__(self, c_in: int, c_out: int, spatial: tuple[int, int], cfg: ModelConfig,
                 *, gac: bool, attention: str | None, tim: bool):
        super().__init__()
        self.spatial = spatial                        # (H, W) of this block's feature maps
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.lif = make_lif(cfg)
        self.gac = GAC(c_out, cfg.gac_kernel, cfg.gac_reduction, cfg.gac_ema_decay) if gac else None
        self.tcja: TCJAWindow | TCJACausal | None = None
        self.tim: TIM | None = None
        if attention == "window":
            self.tcja = TCJAWindow(c_out, cfg.T, cfg.kernel_t, cfg.kernel_c)
        elif attention == "causal":
            self.tcja = TCJACausal(c_out, cfg.kernel_t, cfg.kernel_c, cfg.lags_c)
        if attention == "tim" or tim:
            self.tim = TIM(c_out, cfg.tim_kernel, cfg.tim_alpha, make_lif(cfg),
                           make_lif(cfg, v_threshold=cfg.tim_out_threshold))

    def fuse_batch_norm(self, *, into_conv: bool = False) -> None:
        """Inference only (see :meth:`TCJASNN.fused_for_inference`): the eval-mode BatchNorm
        becomes :class:`EvalBatchNorm`, the same per-channel affine applied in place to the
        convolution's output (bit-identical where :func:`eval_batch_norm_is_exact` holds,
        else the BatchNorm stays); with ``into_conv``, it is folded into the convolution."""
        bn = self.bn
        if not isinstance(bn, nn.BatchNorm2d) or bn.training or bn.running_mean is None \
                or bn.running_var is None:
            return  # only an eval-mode BatchNorm with running statistics is rewritten
        if into_conv:
            self.conv = fold_batch_norm(self.conv, self.bn)
            self.bn = nn.Identity()
            return
        affine = EvalBatchNorm(self.bn)
        if eval_batch_norm_is_exact(self.bn, affine, self.conv.out_channels, self.spatial):
            self.bn = affine

    def stateful(self) -> dict[str, nn.Module]:
        parts = {"tim": self.tim, "gac": self.gac, "tcja": self.tcja}
        return {name: m for name, m in parts.items() if m is not None}

    def attention_names(self) -> list[str]:
        return list(self.stateful())

    def spiking_names(self) -> list[str]:
        return ["lif"] + (["tim.lif_in", "tim.lif_out"] if self.tim is not None else [])

    def init_state(self, batch_size: int, device: torch.device, dtype: torch.dtype
                   ) -> dict[str, ModuleState]:
        c = self.conv.out_channels
        state = {"lif": {"v": feature_map_zeros(batch_size, c, self.spatial, device, dtype)}}
        for name, module in self.stateful().items():
            state[name] = module.init_state(batch_size, self.spatial, device, dtype)
        return state

    def run(self, x: Tensor, state: dict[str, ModuleState], *, seq: bool, taps: bool
            ) -> tuple[Tensor, dict[str, ModuleState], dict[str, AttentionTap], dict[str, Tensor]]:
        lead = x.shape[:2] if seq else x.shape[:1]
        fold = len(lead) - 1
        # Channels-last: 1.5-3× faster convolutions and a fast max-pool on CPU (see
        # live_snn.model.state.feature_map_zeros); a no-op after the first block.
        frames = x.flatten(0, fold).contiguous(memory_format=torch.channels_last)
        u = self.bn(self.conv(frames)).unflatten(0, lead)
        if seq:
            s, v = self.lif(u, state["lif"]["v"])
        else:  # only GAC reads u after the LIF: without it, the membrane can reuse u's memory
            s, v = self.lif.step(u, state["lif"]["v"], overwrite_input=self.gac is None)
        new_state: dict[str, ModuleState] = {"lif": {"v": v}}
        attention: dict[str, AttentionTap] = {}
        rates: dict[str, Tensor] = {"lif": spike_rate(s, 3)} if taps else {}

        def apply(name: str, module: nn.Module, *inputs: Tensor) -> Tensor:
            out, new_state[name], attention[name], sub_rates = (
                (module if seq else module.step)(*inputs, state[name]))
            rates.update({f"{name}.{k}": r for k, r in sub_rates.items()})
            return out

        y = s
        if self.tim is not None:
            y = apply("tim", self.tim, y)
        if self.gac is not None:
            y = apply("gac", self.gac, y, u)
        if self.tcja is not None:
            y = apply("tcja", self.tcja, y)
        y = max_pool_2x2(y.flatten(0, fold)).unflatten(0, lead)
        return y, new_state, attention, rates


class TimeSharedDropout(nn.Module):
    """Dropout with one mask for all T steps of a sequence, as spikingjelly's multi-step
    Dropout used by the reference: a neuron dropped at one step is dropped at every step."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x_seq: Tensor) -> Tensor:  # [T, B, F]
        if not self.training or self.p == 0.0:
            return x_seq
        keep = torch.empty_like(x_seq[0]).bernoulli_(1.0 - self.p) / (1.0 - self.p)
        return x_seq * keep


class Voting(nn.Module):
    """Score of each class = mean of its group of ``voters`` output spikes."""

    def __init__(self, voters: int):
        super().__init__()
        self.voters = voters

    def forward(self, spikes: Tensor) -> Tensor:  # [..., K * voters] -> [..., K]
        return spikes.unflatten(-1, (-1, self.voters)).mean(-1)


class TCJASNN(nn.Module):
    """The network of :class:`ModelConfig`; see the module docstring for the contract."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        h, w = config.input_size
        blocks, c_in = [], config.in_channels
        for i in range(config.num_blocks):
            if i in config.attention_blocks and config.attention != "none":
                attention = config.attention
            else:
                attention = None
            blocks.append(ConvBlock(c_in, config.channels, (h, w), config,
                                    gac=(i == 0 and config.encoder == "gac"),
                                    attention=attention, tim=i in config.tim_blocks))
            c_in, h, w = config.channels, h // 2, w // 2
        self.blocks = nn.ModuleList(blocks)
        self.flat_features = config.channels * h * w
        self.dropout_flat = TimeSharedDropout(config.dropout)
        self.fc_hidden = nn.Linear(self.flat_features, config.hidden, bias=False)
        self.lif_hidden = make_lif(config)
        self.dropout_hidden = TimeSharedDropout(config.dropout)
        self.fc_out = nn.Linear(config.hidden, config.num_classes * config.voting, bias=False)
        self.lif_out = make_lif(config)
        self.voting = Voting(config.voting)
        self._state_names = self._stateful_layer_names()
        # Convolution weights in channels-last too, or each call converts them (see
        # ConvBlock.run); checkpoints store them in the standard layout.
        self.to(memory_format=torch.channels_last)
        self._block_state_names = [[(f"blocks.{i}.{n}", n) for n in ["lif", *block.stateful()]]
                                   for i, block in enumerate(self.blocks)]

    # ---- live inference ---------------------------------------------------------------------
    @property
    def inference_fused(self) -> bool:
        """True for a copy made by :meth:`fused_for_inference` (no BatchNorm left)."""
        return bool(getattr(self, "_inference_fused", False))

    def fused_for_inference(self, *, fold_into_conv: bool = False,
                            conv_dtype: str = "float32") -> TCJASNN:
        """A copy of this network for live inference, in eval mode, whose BatchNorms cost
        less: each becomes its per-channel affine applied in place to the convolution's
        output (:class:`EvalBatchNorm`), bit-identical to the eval-mode BatchNorm (checked
        per block on this machine; a block where it is not keeps its BatchNorm), so the copy
        computes exactly what this network computes. With ``fold_into_conv`` each BatchNorm
        is folded into its convolution instead (:func:`fold_batch_norm`): a little cheaper,
        but equal only up to float rounding of the membrane input, and a rounding that moves
        a membrane across the threshold changes the spikes after it, so over a long stream
        scores can drift apart.

        ``conv_dtype="bfloat16"`` computes each block's convolution in bfloat16
        (:class:`~live_snn.model.inference.BFloat16Conv`): faster where the processor has
        bfloat16 dot products, and no longer the same spikes as float32 (weights rounded to
        8 bits of mantissa); its cost in accuracy is in docs/benchmarks.md.

        The copy cannot train (``train()`` refuses) nor be saved as a checkpoint; this
        network is left as it is."""
        if conv_dtype not in CONV_DTYPES:
            raise ValueError(f"conv_dtype must be one of {CONV_DTYPES}, got {conv_dtype!r}")
        fused = copy.deepcopy(self).eval()
        for block in fused.blocks:
            block.fuse_batch_norm(into_conv=fold_into_conv)
            if conv_dtype == "bfloat16":
                block.conv = BFloat16Conv(block.conv)
        fused._inference_fused = True
        return fused

    def train(self, mode: bool = True) -> TCJASNN:
        if mode and self.inference_fused:
            raise RuntimeError("this is the network's inference copy (fused_for_inference), "
                               "whose BatchNorms are rewritten for inference: it cannot "
                               "train; train the original network")
        return super().train(mode)

    # ---- what the GUI and the engine need to know ------------------------------------------
    @property
    def streams_by_step(self) -> bool:
        """False for attention="window": re-run the last T frames per bin instead of step()."""
        return self.config.streams_by_step

    @property
    def attention_layers(self) -> list[str]:
        return [f"blocks.{i}.{n}" for i, b in enumerate(self.blocks) for n in b.attention_names()]

    @property
    def attention_channels(self) -> dict[str, int]:
        return {name: self.config.channels for name in self.attention_layers}

    @property
    def spiking_layers(self) -> list[str]:
        names = [f"blocks.{i}.{n}" for i, b in enumerate(self.blocks) for n in b.spiking_names()]
        return names + ["lif_hidden", "lif_out"]

    @property
    def num_classes(self) -> int:
        return self.config.num_classes

    # ---- state --------------------------------------------------------------------------
    def init_state(self, batch_size: int = 1, device: torch.device | str | None = None,
                   dtype: torch.dtype = torch.float32) -> ModelState:
        """Zero state for ``batch_size`` independent streams, on the model's device unless
        ``device`` is given."""
        if device is None:
            device = next(self.parameters()).device
        device = torch.device(device)
        layers: dict[str, ModuleState] = {}
        for i, block in enumerate(self.blocks):
            for name, tensors in block.init_state(batch_size, device, dtype).items():
                if tensors:
                    layers[f"blocks.{i}.{name}"] = tensors
        layers["lif_hidden"] = {"v": torch.zeros(batch_size, self.config.hidden, device=device,
                                                 dtype=dtype)}
        layers["lif_out"] = {"v": torch.zeros(batch_size, self.fc_out.out_features,
                                              device=device, dtype=dtype)}
        return ModelState(layers)

    # ---- the two paths ----------------------------------------------------------------------
    def forward(self, x_seq: Tensor, return_taps: bool = False
                ) -> Tensor | tuple[Tensor, StepTaps]:
        """``x_seq`` [T, B, 2, H, W] from a zero state -> scores [T, B, K] (and taps, each
        with a leading T axis, with ``return_taps``)."""
        scores, _, taps = self.run(x_seq, None, return_taps=return_taps)
        return (scores, taps) if return_taps else scores

    def run(self, x_seq: Tensor, state: ModelState | None = None, *, return_taps: bool = False
            ) -> tuple[Tensor, ModelState, StepTaps | None]:
        """Multi-step from ``state`` (zero when None): -> (scores [T, B, K], state after the
        last step, taps or None). For a streaming model two consecutive calls carrying the
        state equal one call over the concatenated sequence, and ``step`` over it. (A window
        model carries only its membranes: its TCJA always sees just the given window.)"""
        x_seq = self._check_input(x_seq, seq=True)
        if state is None:
            state = self.init_state(x_seq.shape[1], x_seq.device)
        self._check_state(state, x_seq.shape[1], x_seq.device)
        return self._run(x_seq, state, seq=True, taps=return_taps)

    def step(self, x_t: Tensor, state: ModelState) -> tuple[Tensor, ModelState, StepTaps]:
        """Advance every stream by one bin: ``x_t`` [B, 2, H, W] -> (scores [B, K], new state,
        taps with [B, C] / [B] tensors). ``state`` is not modified."""
        if not self.streams_by_step:
            raise RuntimeError(
                "attention='window' cannot advance one step at a time (its gate looks ahead "
                f"and its weights are tied to positions in a {self.config.T}-step window): "
                f"re-run model(last {self.config.T} frames) per bin and read step -1 "
                "(model.streams_by_step is False)")
        if self.training:
            raise RuntimeError("step() is the streaming inference path: call model.eval() first "
                               "(in training mode BatchNorm and dropout act per batch, so "
                               "step() could not equal forward())")
        x_t = self._check_input(x_t, seq=False)
        self._check_state(state, x_t.shape[0], x_t.device)
        scores, state, taps = self._run(x_t, state, seq=False, taps=True)
        assert taps is not None
        return scores, state, taps

    def _run(self, x: Tensor, state: ModelState, *, seq: bool, taps: bool
             ) -> tuple[Tensor, ModelState, StepTaps | None]:
        layers = state.layers
        new_layers: dict[str, ModuleState] = {}
        attention: dict[str, AttentionTap] = {}
        rates: dict[str, Tensor] = {}
        for block, names in zip(self.blocks, self._block_state_names, strict=True):
            block_state = {rel: layers.get(full, {}) for full, rel in names}
            x, block_new, block_attention, block_rates = block.run(x, block_state, seq=seq,
                                                                   taps=taps)
            for full, rel in names:
                if block_new.get(rel):
                    new_layers[full] = block_new[rel]
            prefix = names[0][0][:-len("lif")]
            attention.update({prefix + n: tap for n, tap in block_attention.items()})
            rates.update({prefix + n: r for n, r in block_rates.items()})
        x = self.dropout_flat(x.flatten(-3))                # [(T,) B, C·h·w]
        lif_hidden, lif_out = ((self.lif_hidden, self.lif_out) if seq else
                               (self.lif_hidden.step, self.lif_out.step))
        s_hidden, v_hidden = lif_hidden(self.fc_hidden(x), layers["lif_hidden"]["v"])
        s_out, v_out = lif_out(self.fc_out(self.dropout_hidden(s_hidden)), layers["lif_out"]["v"])
        scores = self.voting(s_out)                         # [(T,) B, K]
        new_layers["lif_hidden"] = {"v": v_hidden}
        new_layers["lif_out"] = {"v": v_out}
        if taps:
            rates["lif_hidden"] = spike_rate(s_hidden, 1)
            rates["lif_out"] = spike_rate(s_out, 1)
        step_taps = StepTaps(attention, rates) if taps else None
        return scores, ModelState(new_layers), step_taps

    # ---- checks with messages that say what is wrong ----------------------------------------
    def _check_input(self, x: Tensor, *, seq: bool) -> Tensor:
        cfg = self.config
        expected = (cfg.in_channels, *cfg.input_size)
        want = "[T, B, %d, %d, %d]" if seq else "[B, %d, %d, %d]"
        ndim = 5 if seq else 4
        if x.dim() != ndim or tuple(x.shape[-3:]) != expected:
            raise ValueError(f"input of shape {tuple(x.shape)} does not fit this model: expected "
                             + want % expected + f" (preset {cfg.preset!r}, input_size (H, W) = "
                             f"{cfg.input_size})")
        if not x.is_floating_point():
            x = x.to(self.fc_out.weight.dtype)
        return x

    def _check_state(self, state: ModelState, batch_size: int, device: torch.device) -> None:
        if not isinstance(state, ModelState):
            raise TypeError(f"state must be a ModelState from model.init_state(), got "
                            f"{type(state).__name__}")
        if state.device != device:
            raise ValueError(f"state is on {state.device} but the input on {device}: move it "
                             f"with state.to(device)")
        if state.batch_size != batch_size:
            raise ValueError(f"state holds {state.batch_size} streams but the input has batch "
                             f"size {batch_size}")
        missing = sorted(set(self._state_names) - set(state.layers))
        if missing:
            raise ValueError(f"state lacks layers {missing}: it was made by a different model")

    def _stateful_layer_names(self) -> list[str]:
        names = []
        for i, block in enumerate(self.blocks):
            names.append(f"blocks.{i}.lif")
            names += [f"blocks.{i}.{n}" for n, m in block.stateful().items()
                      if not isinstance(m, TCJAWindow)]
        return names + ["lif_hidden", "lif_out"]


def build_model(config: ModelConfig | None = None, **fields: Any) -> TCJASNN:
    """The network of ``config``, or of ``ModelConfig(**fields)``:
    ``build_model(preset="paper", attention="window")``. A new model is in training mode,
    like any ``nn.Module``; ``step()`` needs ``model.eval()``."""
    if config is not None and fields:
        raise TypeError("pass either a ModelConfig or its fields, not both")
    return TCJASNN(config if config is not None else ModelConfig(**fields))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
