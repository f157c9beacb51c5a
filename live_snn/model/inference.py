"""The arithmetic of the network's inference copy (:meth:`TCJASNN.fused_for_inference`):
the same values as the training network computes, in fewer passes over memory.

* :func:`max_pool_2x2` — a 2x2 max-pool without argmax indices when no gradient is needed;
* :class:`EvalBatchNorm` — an eval-mode BatchNorm written into the convolution's output,
  checked bit for bit against BatchNorm itself by :func:`eval_batch_norm_is_exact` before
  it replaces one;
* :func:`fold_batch_norm` — BatchNorm folded into the convolution: equal only up to
  rounding, so opt-in (a rounding can move a membrane across its threshold);
* :class:`BFloat16Conv` — a block's convolution in bfloat16 with float32 in and out: the
  five block convolutions about 1.7 times as fast on Zen 4 (which multiplies bfloat16
  natively), but weights and sums keep 8 bits of mantissa, so the spikes differ from
  float32's: opt-in (``conv_dtype``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def max_pool_2x2(x: Tensor) -> Tensor:
    """``F.max_pool2d(x, 2, 2)``. Without autograd, as two element-wise maxima of strided
    views (rows, then columns): the same values (a maximum is exact, NaN propagates in
    both), about twice as fast on CPU, where max_pool2d also computes the argmax indices.
    With autograd, max_pool2d itself: torch.maximum would split the gradient between tied
    spikes, where max_pool2d gives it to the first."""
    if torch.is_grad_enabled() and x.requires_grad:
        return F.max_pool2d(x, 2, 2)
    h, w = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2
    rows = torch.maximum(x[..., 0:h:2, :w], x[..., 1:h:2, :w])
    return torch.maximum(rows[..., 0::2], rows[..., 1::2])


class EvalBatchNorm(nn.Module):
    """An eval-mode ``BatchNorm2d`` as PyTorch's CPU kernel computes it, y = fma(x, a, b)
    with a = rsqrt(σ² + ε)·γ and b = fma(-μ, a, β), written into ``x`` (the convolution's
    output, which nothing else holds): one pass over memory and no new tensor, where
    ``native_batch_norm`` reads ``x`` into a new tensor about twice as slowly."""

    def __init__(self, bn: nn.BatchNorm2d):
        super().__init__()
        assert bn.running_var is not None and bn.running_mean is not None
        with torch.no_grad():
            eps = torch.tensor(bn.eps, dtype=bn.running_var.dtype)
            alpha = torch.rsqrt(bn.running_var + eps)
            if bn.weight is not None:
                alpha = alpha * bn.weight
            bias = bn.bias if bn.bias is not None else torch.zeros_like(alpha)
            beta = torch.addcmul(bias, bn.running_mean, alpha, value=-1.0)
        self.register_buffer("alpha", alpha.detach().view(-1, 1, 1).clone())
        self.register_buffer("beta", beta.detach().view(-1, 1, 1).clone())

    def forward(self, x: Tensor) -> Tensor:
        if x.requires_grad and torch.is_grad_enabled():
            return torch.addcmul(self.beta, x, self.alpha)
        return torch.addcmul(self.beta, x, self.alpha, out=x)


def eval_batch_norm_is_exact(bn: nn.BatchNorm2d, affine: EvalBatchNorm, channels: int,
                             spatial: tuple[int, int]) -> bool:
    """Whether ``affine`` reproduces ``bn`` bit for bit on this machine (both are fused
    multiply-adds on x86-64 builds of PyTorch; another build may round differently), on a
    channels-last probe of the block's shape with values spread like a membrane input."""
    g = torch.Generator().manual_seed(0)
    probe = (torch.randn(2, channels, *spatial, generator=g) * 4).to(
        device=affine.alpha.device, dtype=affine.alpha.dtype).contiguous(
        memory_format=torch.channels_last)
    with torch.no_grad():
        return bool(torch.equal(bn(probe), affine(probe.clone())))


def fold_batch_norm(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """``conv`` followed by eval-mode ``bn`` as one convolution with a bias: weight·a,
    bias·a + β - μ·a with a = γ/√(σ² + ε), computed in float64 and rounded once. Equal to
    the two up to float rounding of the output (~1e-7 relative), which can move a membrane
    across the threshold and so change later spikes."""
    assert bn.running_var is not None and bn.running_mean is not None
    weight = conv.weight.detach()
    scale = bn.running_var.double().add(bn.eps).rsqrt()
    if bn.weight is not None:
        scale = scale * bn.weight.detach().double()
    bias = -bn.running_mean.double() * scale
    if bn.bias is not None:
        bias = bias + bn.bias.detach().double()
    if conv.bias is not None:
        bias = bias + conv.bias.detach().double() * scale
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                       padding=conv.padding, dilation=conv.dilation, groups=conv.groups,
                       bias=True, padding_mode=conv.padding_mode, device=weight.device,
                       dtype=weight.dtype)
    with torch.no_grad():
        folded.weight.copy_(weight.double() * scale.view(-1, 1, 1, 1))
        folded.bias.copy_(bias)
    return folded.to(memory_format=torch.channels_last).requires_grad_(False)


class BFloat16Conv(nn.Module):
    """``conv`` computed in bfloat16: its weight rounded once to bfloat16 (8 bits of mantissa),
    the input rounded at each call, products accumulated in float32, the sums rounded to
    bfloat16 (PyTorch's bfloat16 convolution has a bfloat16 output) and returned as float32,
    plus the bias (if any; a BatchNorm folded in) in float32, for the BatchNorm and the
    membrane after it.

    Why: the block convolutions are about half of a CPU step, and a processor with bfloat16
    dot products (AVX512-BF16 or AMX; measured on Zen 4: docs/benchmarks.md) does the
    64-channel one at 32×32 in about half the time, all five in about 0.6 of it. Spikes
    (0 or 1) and event counts up to 256 pass into bfloat16 exactly; what a TCJA gate multiplied (the input of
    the block after an attention block) and counts above 256 are rounded, as are the weights
    and the sums (relative error up to 2^-9 each), so a membrane near its threshold can
    spike where float32 would not (or not where it would). How much that changes what the
    network says is measured, not assumed: docs/benchmarks.md."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        if conv.padding_mode != "zeros":
            raise ValueError(f"bfloat16 convolution needs zero padding, got {conv.padding_mode!r}")
        self.stride, self.padding = conv.stride, conv.padding
        self.dilation, self.groups = conv.dilation, conv.groups
        self.in_channels, self.out_channels = conv.in_channels, conv.out_channels
        weight = conv.weight.detach().to(torch.bfloat16)
        self.register_buffer("weight", weight.contiguous(memory_format=torch.channels_last))
        bias = None if conv.bias is None else conv.bias.detach().float().view(-1, 1, 1)
        self.register_buffer("bias", bias)

    def forward(self, x: Tensor) -> Tensor:
        y = F.conv2d(x.to(torch.bfloat16), self.weight, None, self.stride, self.padding,
                     self.dilation, self.groups).float()
        return y if self.bias is None else y.add_(self.bias)


def bfloat16_is_native(device: torch.device) -> bool:
    """Whether ``device`` multiplies bfloat16 in hardware: on CPU, AVX512-BF16 or AMX (and a
    oneDNN that uses them; oneDNN alone says yes on any AVX512 CPU, where it emulates
    bfloat16 more slowly than float32); on CUDA, compute capability 8.0 (Ampere) or more."""
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return False
        index = device.index if device.index is not None else torch.cuda.current_device()
        return torch.cuda.get_device_capability(index) >= (8, 0)
    if device.type == "cpu":
        onednn = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
        if not (torch.backends.mkldnn.is_available() and onednn is not None and onednn()):
            return False
        return _cpu_has("_is_avx512_bf16_supported") or _cpu_has("_is_amx_tile_supported")
    return False


def _cpu_has(feature: str) -> bool:
    probe = getattr(torch.cpu, feature, None)
    return bool(probe is not None and probe())
