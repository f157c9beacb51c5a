"""Leaky integrate-and-fire neuron with an explicit membrane state.

One update rule serves both the multi-step path (``[T, ...]``, a loop over T only) and the
single-step path (``step``), so the two cannot drift apart:

    h_t = v_{t-1} + (x_t - v_{t-1}) / tau        charge, input decays with the membrane
    s_t = Heaviside(h_t - V_th)                  fire (ATan surrogate gradient)
    v_t = h_t * (1 - s_t)                        hard reset to 0; the reset is detached

This is spikingjelly's ``LIFNode(tau=2, decay_input=True, v_reset=0, detach_reset=True,
surrogate_function=ATan(alpha=2))``; ``tests/model/test_neuron.py`` checks outputs and
gradients against it.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class ATanSpike(torch.autograd.Function):
    """Heaviside forward; ATan surrogate backward: g'(x) = a / (1 + (pi a x)^2), a = alpha/2."""

    @staticmethod
    def forward(ctx, x: Tensor, alpha: float) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> tuple[Tensor, None]:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        half_alpha = ctx.alpha / 2
        scaled = math.pi * half_alpha * x
        return half_alpha / (1 + scaled * scaled) * grad_output, None


class LIF(nn.Module):
    """A layer of LIF neurons, one per input element. Its state is the membrane ``v``."""

    def __init__(self, tau: float = 2.0, v_threshold: float = 1.0, surrogate_alpha: float = 2.0):
        super().__init__()
        if tau <= 1.0:
            raise ValueError(f"LIF tau must be > 1 (the membrane would not leak), got {tau}")
        self.tau = float(tau)
        self.v_threshold = float(v_threshold)
        self.surrogate_alpha = float(surrogate_alpha)

    def extra_repr(self) -> str:
        return f"tau={self.tau}, v_threshold={self.v_threshold}, alpha={self.surrogate_alpha}"

    def step(self, x: Tensor, v: Tensor, *, overwrite_input: bool = False
             ) -> tuple[Tensor, Tensor]:
        """One time step: ``x``, ``v`` same shape -> (spikes, next membrane).

        ``overwrite_input``: the caller no longer needs ``x``, so without autograd the next
        membrane is computed in its memory (a tensor less to allocate and first touch)."""
        if torch.is_grad_enabled() and (x.requires_grad or v.requires_grad):
            h = v + (x - v) / self.tau
            s = ATanSpike.apply(h - self.v_threshold, self.surrogate_alpha)
            return s, h * (1.0 - s.detach())
        # Live inference (no autograd): the same values in three passes over memory, and
        # without bool tensors (h >= V_th as a bool, its cast to float, masked_fill and where
        # are each several times slower on CPU than these ops). h - h·s is h or +0, as h·(1 - s).
        inverse = 1.0 / self.tau
        if self.tau >= 2.0 and math.frexp(inverse)[0] == 0.5 and x.dtype == v.dtype:
            # lerp(x, v, w) with w = 1 - 1/tau >= 0.5 is fma(w - 1, v - x, v) = v + (x - v)/tau
            # rounded once: w - 1 = -1/tau is a power of two, so the product is exact and the
            # result is that of the grad path's sub, div, add (tests/model/test_neuron.py);
            # only a subnormal (< 1.2e-38) difference or the sign of a zero can differ.
            in_place = overwrite_input and x.shape == v.shape
            h = torch.lerp(x, v, 1.0 - inverse, out=x if in_place else None)
        else:
            h = torch.sub(x, v).div_(self.tau).add_(v)
        s = torch.ge(h, self.v_threshold, out=torch.empty_like(h))
        return s, torch.addcmul(h, h, s, value=-1.0, out=h)

    def forward(self, x_seq: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """``x_seq`` [T, ...], ``v`` [...] -> (spikes [T, ...], membrane after the last step)."""
        spikes = []
        for x in x_seq:
            s, v = self.step(x, v)
            spikes.append(s)
        return torch.stack(spikes), v


def spike_rate(spikes: Tensor, feature_dims: int) -> Tensor:
    """Fraction of neurons that fired, averaged over the last ``feature_dims`` axes
    (3 for a [.., C, H, W] map, 1 for a [.., F] vector)."""
    return spikes.mean(dim=tuple(range(-feature_dims, 0)))  # flatten() would copy channels-last
