"""Gated Attention Coding (GAC, Qiu et al., AAAI 2024) for the first block, made causal.

The first block's convolution (after BatchNorm) gives the membrane input U_t and the LIF its
spikes S_t; GAC passes on S_t ⊙ sigmoid(TA_t ⊙ SCA_t):

* SCA_t (spatial-channel attention) = Conv_k(ReLU(Conv_k(U_t))), C -> C/r -> C, 'same'
  padding, no bias: the published module with its reduction ratio r. Per step, so causal.
* TA_t (temporal attention). Published: a shared MLP across the T steps of a window applied
  to the spatial-and-channel average and max of U, which mixes future steps. Here the MLP
  sees, for each statistic, its value now and its exponential moving average over the past
  (e_t = β e_{t-1} + (1-β) p_t, e_{-1} = 0): TA_t = MLP([avg_t, ē_avg]) + MLP([max_t, ē_max]).
  One scalar per stream and step, as published; the state is the two averages.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from live_snn.model.attention import ModuleState, squeeze
from live_snn.model.state import AttentionTap

TA_HIDDEN = 4


class GAC(nn.Module):
    def __init__(self, channels: int, kernel: int, reduction: int, ema_decay: float):
        super().__init__()
        if kernel % 2 != 1:
            raise ValueError(f"GAC kernel must be odd ('same' padding), got {kernel}")
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"GAC ema_decay must be in [0, 1), got {ema_decay}")
        mid = max(1, channels // reduction)
        self.sca = nn.Sequential(
            nn.Conv2d(channels, mid, kernel, padding=kernel // 2, bias=False),
            nn.ReLU(),
            nn.Conv2d(mid, channels, kernel, padding=kernel // 2, bias=False),
        )
        self.ta = nn.Sequential(nn.Linear(2, TA_HIDDEN, bias=False), nn.ReLU(),
                                nn.Linear(TA_HIDDEN, 1, bias=False))
        self.ema_decay = ema_decay
        self.channels = channels

    def init_state(self, batch_size: int, spatial: tuple[int, int], device: torch.device,
                   dtype: torch.dtype) -> ModuleState:
        return {"ema": torch.zeros(batch_size, 2, device=device, dtype=dtype)}

    @staticmethod
    def pooled(u: Tensor) -> Tensor:
        """Average and max of U over channels and space: [..., C, H, W] -> [..., 2]."""
        return torch.stack([u.mean(dim=(-3, -2, -1)), u.amax(dim=(-3, -2, -1))], dim=-1)

    def temporal(self, pooled: Tensor, ema: Tensor) -> Tensor:
        """TA from the statistics now and their averages: [..., 2], [..., 2] -> [...]."""
        pairs = torch.stack([pooled, ema.to(pooled.dtype)], dim=-1)  # [..., stat, (now, ema)]
        return self.ta(pairs).sum(dim=(-2, -1))                      # MLP(avg) + MLP(max)

    def _gate(self, s: Tensor, u: Tensor, ta: Tensor) -> tuple[Tensor, AttentionTap]:
        lead = u.shape[:-3]
        sca = self.sca(u.flatten(0, len(lead) - 1)).unflatten(0, lead)
        gate = torch.sigmoid(ta[..., None, None, None] * sca)
        tap = AttentionTap(squeeze(gate), ta[..., None].expand(*lead, self.channels), squeeze(sca))
        return s * gate, tap

    def step(self, s: Tensor, u: Tensor, state: ModuleState
             ) -> tuple[Tensor, ModuleState, AttentionTap, dict[str, Tensor]]:
        """``s`` spikes and ``u`` membrane input, both [B, C, H, W]."""
        pooled = self.pooled(u)
        ema = self.ema_decay * state["ema"] + (1.0 - self.ema_decay) * pooled
        y, tap = self._gate(s, u, self.temporal(pooled, ema))
        return y, {"ema": ema}, tap, {}

    def forward(self, s_seq: Tensor, u_seq: Tensor, state: ModuleState
                ) -> tuple[Tensor, ModuleState, AttentionTap, dict[str, Tensor]]:
        """``s_seq``, ``u_seq`` [T, B, C, H, W]; the averages run over T ([B, 2] each step)."""
        pooled = self.pooled(u_seq)                                  # [T, B, 2]
        ema, emas = state["ema"], []
        for p in pooled:
            ema = self.ema_decay * ema + (1.0 - self.ema_decay) * p
            emas.append(ema)
        y, tap = self._gate(s_seq, u_seq, self.temporal(pooled, torch.stack(emas)))
        return y, {"ema": ema}, tap, {}
