"""Attention on a block's spikes: TCJA as published (``window``), causal TCJA (``causal``)
and the Temporal Interaction Module (TIM). See DESIGN.md, "The network".

Every module here offers the same two paths over the same weights:

* ``forward(x_seq, state) -> (y_seq, state, tap, spike_rates)`` on ``[T, B, C, H, W]``
  (taps ``[T, B, C]``), for training and for re-running windows;
* ``step(x, state) -> (y, state, tap, spike_rates)`` on ``[B, C, H, W]`` (taps ``[B, C]``),
  for streaming one bin at a time;

``state`` is the module's own dict of ``[B, ...]`` tensors (``init_state``), all zero at the
start of a stream. ``spike_rates`` maps the module's own spiking sub-layers (relative names)
to the fraction of neurons that fired.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from live_snn.model.neuron import LIF, spike_rate
from live_snn.model.state import AttentionTap, feature_map_zeros
from live_snn.taps import ATTENTION_PARTS

ModuleState = dict[str, Tensor]


def squeeze(x: Tensor) -> Tensor:
    """Z = spatial mean per channel: [..., C, H, W] -> [..., C]."""
    return x.mean(dim=(-2, -1))


def same_padding(kernel: int) -> tuple[int, int]:
    """PyTorch's padding='same' for stride 1: the odd one out goes to the right (future)."""
    return (kernel - 1) // 2, kernel // 2


class TCJAWindow(nn.Module):
    """Temporal-Channel Joint Attention exactly as published (Zhu et al., TCJA-SNN).

    Over a window of exactly ``T`` steps, with Z = squeeze(X) ∈ [T, B, C]:

    * A = Conv1d over the time axis, channels C -> C, kernel ``kernel_t``, 'same' padding;
    * B = Conv1d over the channel axis with the T steps as channels, T -> T, ``kernel_c``;
    * M = sigmoid(A ⊙ B), Y = X ⊙ M.

    M at step t looks ahead in time and B's weights are tied to the absolute position in the
    window, so this module cannot stream: it has no state and no ``step``. (The reference
    code calls the two kernels the other way round; the DVS128 network uses 4 and 4.)
    """

    def __init__(self, channels: int, window: int, kernel_t: int, kernel_c: int):
        super().__init__()
        self.window = window
        self.temporal = nn.Conv1d(channels, channels, kernel_t, bias=False)
        self.channel = nn.Conv1d(window, window, kernel_c, bias=False)
        self.pad_t, self.pad_c = same_padding(kernel_t), same_padding(kernel_c)

    def init_state(self, batch_size: int, spatial: tuple[int, int], device: torch.device,
                   dtype: torch.dtype) -> ModuleState:
        return {}

    def forward(self, x_seq: Tensor, state: ModuleState | None = None
                ) -> tuple[Tensor, ModuleState, AttentionTap, dict[str, Tensor]]:
        if x_seq.shape[0] != self.window:
            raise ValueError(
                f"window-mode TCJA was built for windows of T = {self.window} steps, got "
                f"{x_seq.shape[0]}: pass exactly the last {self.window} frames")
        z = squeeze(x_seq)                                          # [T, B, C]
        a = self.temporal(F.pad(z.permute(1, 2, 0), self.pad_t)).permute(2, 0, 1)  # [T, B, C]
        b = self.channel(F.pad(z.transpose(0, 1), self.pad_c)).transpose(0, 1)     # [T, B, C]
        gate = torch.sigmoid(a * b)
        return x_seq * gate[..., None, None], {}, AttentionTap(gate, a, b), {}


class TCJACausal(nn.Module):
    """TCJA whose two branches see only the present and the past (the streaming default).

    With Z_t = squeeze(X_t) ∈ [B, C]:

    * A_t = Σ_{d<K} Wa[:, :, d] · Z_{t-d}  (temporal conv over the last K = ``kernel_t`` steps);
    * B_t[c] = Σ_{d<L} Σ_j U[d, j] · Z_{t-d}[c + j - p]  (a 2-D conv over (lag, channel):
      L = ``lags`` lags, ``kernel_c`` channels, 'same' on channels, p = (kernel_c - 1) // 2);
    * M_t = sigmoid(A_t ⊙ B_t), Y_t = X_t ⊙ M_t.

    No weight depends on the position in a window, so ``step`` over a sequence equals
    ``forward`` over it. State: the last max(K, L) - 1 squeezed vectors, oldest first.
    Weight layout is PyTorch's convolution layout, whose last tap meets the newest step:
    Wa[:, :, d] = ``temporal.weight[:, :, K-1-d]``, U[d, j] = ``channel.weight[0, 0, L-1-d, j]``.
    """

    def __init__(self, channels: int, kernel_t: int, kernel_c: int, lags: int):
        super().__init__()
        self.kernel_t, self.kernel_c, self.lags = kernel_t, kernel_c, lags
        self.history = max(kernel_t, lags) - 1
        self.channel_pad = same_padding(kernel_c)
        self.temporal = nn.Conv1d(channels, channels, kernel_t, bias=False)
        self.channel = nn.Conv2d(1, 1, (lags, kernel_c), bias=False)
        self.channels = channels

    def init_state(self, batch_size: int, spatial: tuple[int, int], device: torch.device,
                   dtype: torch.dtype) -> ModuleState:
        return {"z": torch.zeros(batch_size, self.history, self.channels, device=device,
                                 dtype=dtype)}

    def branches(self, z_ext: Tensor) -> tuple[Tensor, Tensor]:
        """``z_ext`` [B, history + n, C] (past then new steps) -> A, B for the n new steps."""
        first_a = self.history - (self.kernel_t - 1)
        a = self.temporal(z_ext[:, first_a:].transpose(1, 2)).transpose(1, 2)  # [B, n, C]
        first_b = self.history - (self.lags - 1)
        zc = F.pad(z_ext[:, first_b:], self.channel_pad)          # [B, L-1+n, C+kernel_c-1]
        b = self.channel(zc.unsqueeze(1)).squeeze(1)               # [B, n, C]
        return a, b

    def _extend(self, z_new: Tensor, state: ModuleState) -> tuple[Tensor, ModuleState]:
        z_ext = torch.cat([state["z"].to(z_new.dtype), z_new], dim=1)
        return z_ext, {"z": z_ext[:, z_ext.shape[1] - self.history:]}

    def forward(self, x_seq: Tensor, state: ModuleState
                ) -> tuple[Tensor, ModuleState, AttentionTap, dict[str, Tensor]]:
        z_ext, state = self._extend(squeeze(x_seq).transpose(0, 1), state)  # [B, R+T, C]
        a, b = (t.transpose(0, 1) for t in self.branches(z_ext))          # [T, B, C]
        gate = torch.sigmoid(a * b)
        return x_seq * gate[..., None, None], state, AttentionTap(gate, a, b), {}

    def step(self, x: Tensor, state: ModuleState
             ) -> tuple[Tensor, ModuleState, AttentionTap, dict[str, Tensor]]:
        z_ext, state = self._extend(squeeze(x).unsqueeze(1), state)       # [B, R+1, C]
        a, b = (t.squeeze(1) for t in self.branches(z_ext))               # [B, C]
        gate = torch.sigmoid(a * b)
        return x * gate[..., None, None], state, AttentionTap(gate, a, b), {}


class TIM(nn.Module):
    """Temporal Interaction Module (Shen et al., 2024) on a block's spike map q_t:

        x̃_t = α · LIF_in(DWConv(x̃_{t-1})) + (1 - α) · q_t,     y_t = LIF_out(x̃_t)

    In the spiking transformer TIM's Conv1d slides over the tokens of a head; here the tokens
    are the pixels of each channel, so the interaction is a depthwise k×k convolution (with
    bias, as published) of the previous mix: cheap, spatial, one filter per channel. Like
    the published code, the recurrence carries the mix x̃ (not the output spikes). Unlike
    it, step 0 is not special (x̃_{-1} = 0), so a stream has no privileged first bin.

    ``LIF_out`` has its own threshold (``ModelConfig.tim_out_threshold``): its input is at
    most 1 and with input decay the membrane approaches but never exceeds it, so V_th = 1
    would never fire. The default (1 - α)/τ = 0.25 is the largest threshold at which a spike
    of q_t alone still passes in one step: TIM then never silences the block (an untrained
    TIM is transparent) and adds spikes where the recurrent branch fires. State: x̃_{t-1}
    and the two membranes.
    """

    def __init__(self, channels: int, kernel: int, alpha: float, lif_in: LIF, lif_out: LIF):
        super().__init__()
        if kernel % 2 != 1:
            raise ValueError(f"TIM kernel must be odd (symmetric padding), got {kernel}")
        self.alpha = alpha
        self.interact = nn.Conv2d(channels, channels, kernel, padding=kernel // 2,
                                  groups=channels, bias=True)
        self.lif_in = lif_in
        self.lif_out = lif_out
        self.channels = channels

    def init_state(self, batch_size: int, spatial: tuple[int, int], device: torch.device,
                   dtype: torch.dtype) -> ModuleState:
        return {k: feature_map_zeros(batch_size, self.channels, spatial, device, dtype)
                for k in ("mix", "v_in", "v_out")}

    def step(self, q: Tensor, state: ModuleState
             ) -> tuple[Tensor, ModuleState, AttentionTap, dict[str, Tensor]]:
        s_in, v_in = self.lif_in.step(self.interact(state["mix"].to(q.dtype)), state["v_in"])
        mix = self.alpha * s_in + (1.0 - self.alpha) * q
        y, v_out = self.lif_out.step(mix, state["v_out"])
        tap = AttentionTap(squeeze(mix), squeeze(s_in), squeeze(q))
        rates = {"lif_in": spike_rate(s_in, 3), "lif_out": spike_rate(y, 3)}
        return y, {"mix": mix, "v_in": v_in, "v_out": v_out}, tap, rates

    def forward(self, q_seq: Tensor, state: ModuleState
                ) -> tuple[Tensor, ModuleState, AttentionTap, dict[str, Tensor]]:
        # x̃_t needs the convolution of x̃_{t-1}: inherently one step at a time.
        outputs, taps, rates = [], [], []
        for q in q_seq:
            y, state, tap, rate = self.step(q, state)
            outputs.append(y)
            taps.append(tap)
            rates.append(rate)
        stacked_tap = AttentionTap(*(torch.stack([getattr(t, p) for t in taps])
                                     for p in ATTENTION_PARTS))
        stacked_rates = {k: torch.stack([r[k] for r in rates]) for k in rates[0]}
        return torch.stack(outputs), state, stacked_tap, stacked_rates
