"""The inference copy of the network (``TCJASNN.fused_for_inference``), what the engines and
``live-snn bench model`` run: the same scores, taps and state as the network it copies, bit
for bit (its BatchNorms are in-place affines with BatchNorm's own arithmetic); folded into
the convolutions (``fold_into_conv``) equal up to rounding; it never trains nor gets saved."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from live_snn.binning import BinningConfig
from live_snn.errors import CheckpointMismatchError
from live_snn.model import ModelConfig, ModelState, load_checkpoint, save_checkpoint
from live_snn.model.inference import BFloat16Conv, EvalBatchNorm, fold_batch_norm

BUNDLED = Path(__file__).resolve().parents[2] / "live_snn" / "assets" / "default_lite.safetensors"


def stream(model, frames: torch.Tensor, state: ModelState):
    out = []
    for frame in frames:
        scores, state, taps = model.step(frame, state)
        out.append((scores, state, taps))
    return out


def assert_same_steps(got, expected, *, atol: float) -> None:
    def close(a: torch.Tensor, b: torch.Tensor, what: str) -> None:
        if atol == 0:
            assert torch.equal(a, b), what
        else:
            torch.testing.assert_close(a, b, rtol=0, atol=atol, msg=what)

    for t, ((s1, st1, tp1), (s2, st2, tp2)) in enumerate(zip(got, expected, strict=True)):
        close(s1, s2, f"scores of step {t}")
        assert tp1.attention.keys() == tp2.attention.keys()
        for name in tp2.attention:
            for part in ("gate", "branch_a", "branch_b"):
                close(getattr(tp1.attention[name], part), getattr(tp2.attention[name], part),
                      f"{name}.{part} of step {t}")
        assert tp1.spike_rates.keys() == tp2.spike_rates.keys()
        for name in tp2.spike_rates:
            close(tp1.spike_rates[name], tp2.spike_rates[name], f"rate of {name} at step {t}")
        assert st1.layers.keys() == st2.layers.keys()
        for name, tensors in st2.layers.items():
            for key, tensor in tensors.items():
                close(st1.layers[name][key], tensor, f"state {name}.{key} after step {t}")


@pytest.mark.parametrize("batch", [1, 3])
def test_inference_copy_equals_the_network_with_gac_tim_and_tcja(batch, active_model,
                                                                 spike_input):
    config = ModelConfig(preset="lite", attention="causal", encoder="gac", tim_blocks=(2,))
    model = active_model(config, steps=2)
    fused = model.fused_for_inference()
    assert all(isinstance(b.bn, EvalBatchNorm) for b in fused.blocks)
    x = spike_input(6, batch, 2, *config.input_size)
    with torch.inference_mode():
        expected = stream(model, x, model.init_state(batch))
        got = stream(fused, x, fused.init_state(batch))
        for _, _, taps in expected:
            assert min(r.min().item() for r in taps.spike_rates.values()) >= 0
        assert max(t.spike_rates["lif_out"].max().item() for _, _, t in expected) > 0
        assert_same_steps(got, expected, atol=0)
        # The multi-step path too (window re-runs, evaluation).
        torch.testing.assert_close(fused(x), model(x), rtol=0, atol=0)


def test_bundled_model_inference_copy_is_bit_identical_over_a_stream():
    model = load_checkpoint(BUNDLED).model
    fused = model.fused_for_inference()
    g = torch.Generator().manual_seed(3)
    shape = (40, 4, 2, 64, 64)
    x = torch.randint(1, 6, shape, generator=g).float() * (torch.rand(shape, generator=g) < 0.3)
    with torch.inference_mode():
        expected = stream(model, x, model.init_state(4))
        got = stream(fused, x, fused.init_state(4))
    assert sum(s.sum().item() for s, _, _ in expected) > 0, "the model should vote"
    assert_same_steps(got, expected, atol=0)


def test_batch_norm_folded_into_the_convolution_is_equal_up_to_rounding(active_model,
                                                                        spike_input):
    config = ModelConfig(preset="lite", attention="causal")
    model = active_model(config, steps=2)
    block = model.blocks[1]
    x = spike_input(3, 64, 32, 32).clamp(max=1).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        expected = block.bn(block.conv(x))
        got = fold_batch_norm(block.conv, block.bn)(x)
    scale = expected.abs().max().item()
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6 * scale)
    folded = model.fused_for_inference(fold_into_conv=True)
    assert all(isinstance(b.bn, nn.Identity) and b.conv.bias is not None for b in folded.blocks)
    frames = spike_input(3, 2, 2, *config.input_size)
    with torch.inference_mode():
        expected_steps = stream(model, frames, model.init_state(2))
        got_steps = stream(folded, frames, folded.init_state(2))
    assert_same_steps(got_steps, expected_steps, atol=1e-5)


def test_inference_copy_leaves_the_network_alone_and_cannot_train_or_be_saved(tmp_path):
    model = load_checkpoint(BUNDLED).model
    keys = list(model.state_dict())
    fused = model.fused_for_inference()
    assert fused.inference_fused and not model.inference_fused
    assert all(isinstance(b.bn, nn.BatchNorm2d) for b in model.blocks)
    assert list(model.state_dict()) == keys
    assert not fused.training
    fused.eval()  # still allowed
    with pytest.raises(RuntimeError, match="cannot train"):
        fused.train()
    model.train()  # the original still trains
    binning = BinningConfig(dt_us=20_000, sensor=(128, 128), model=(64, 64))
    with pytest.raises(CheckpointMismatchError, match="fused_for_inference"):
        save_checkpoint(tmp_path / "fused.safetensors", fused, binning=binning,
                        class_names=[str(k) for k in range(11)])


@pytest.mark.parametrize("shape", [(3, 5, 8, 8), (2, 4, 17, 9), (6, 3, 2, 2)])
def test_max_pool_2x2_equals_max_pool2d_without_autograd(shape):
    from live_snn.model.inference import max_pool_2x2

    g = torch.Generator().manual_seed(2)
    spikes = (torch.rand(shape, generator=g) < 0.4).float()           # ties everywhere
    values = torch.randn(shape, generator=g).round(decimals=1)         # some ties
    values[0, 0, 0, 0] = float("nan")
    for x in (spikes, values, spikes.contiguous(memory_format=torch.channels_last)):
        expected = torch.nn.functional.max_pool2d(x, 2, 2)
        with torch.inference_mode():
            got = max_pool_2x2(x)
        torch.testing.assert_close(got, expected, rtol=0, atol=0, equal_nan=True)
        if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
            assert got.is_contiguous(memory_format=torch.channels_last)  # as the blocks need
    # With autograd: max_pool2d's gradient (all of it to the first of tied maxima).
    x = spikes.clone().requires_grad_(True)
    max_pool_2x2(x).sum().backward()
    y = spikes.clone().requires_grad_(True)
    torch.nn.functional.max_pool2d(y, 2, 2).sum().backward()
    assert torch.equal(x.grad, y.grad)


def test_bfloat16_convolution_is_the_convolution_of_its_rounded_weights():
    """Spikes and event counts up to 256 pass into bfloat16 unchanged; the weights are
    rounded once; products are summed in float32, the sums rounded to bfloat16 and handed
    on as float32 (plus a float32 bias: a BatchNorm folded in)."""
    g = torch.Generator().manual_seed(5)
    conv = nn.Conv2d(64, 64, 3, padding=1, bias=False)
    spikes = (torch.rand(2, 64, 16, 16, generator=g) < 0.2).float()
    counts = torch.randint(0, 257, (2, 64, 16, 16), generator=g).float()
    rounded = BFloat16Conv(conv)
    assert rounded.weight.dtype == torch.bfloat16
    for x in (spikes, counts):
        got = rounded(x.contiguous(memory_format=torch.channels_last))
        exact = F.conv2d(x.double(), conv.weight.detach().bfloat16().double(), padding=1)
        assert got.dtype == torch.float32
        assert torch.equal(got, got.bfloat16().float()), "sums rounded to bfloat16"
        # one rounding to 8 bits of mantissa (2^-9 relative), plus float32 summation
        scale = exact.abs().max().item()
        torch.testing.assert_close(got.double(), exact, rtol=2**-8, atol=1e-6 * scale)
        with torch.no_grad():
            assert not torch.equal(got, conv(x)), "the weights should have lost bits"
    biased = nn.Conv2d(64, 64, 3, padding=1, bias=True)
    with torch.no_grad():
        biased.bias.uniform_(-3, 3)
        got = BFloat16Conv(biased)(spikes)
        without = F.conv2d(spikes.double(), biased.weight.bfloat16().double(), padding=1)
        assert BFloat16Conv(biased).bias.dtype == torch.float32
        # the sums rounded as above, then the float32 bias added
        torch.testing.assert_close(got.double() - biased.bias.double().view(-1, 1, 1), without,
                                   rtol=2**-8, atol=1e-5)


def test_bfloat16_copy_rounds_only_the_block_convolutions(active_model, spike_input):
    config = ModelConfig(preset="lite", attention="causal")
    model = active_model(config, steps=2)
    fused = model.fused_for_inference()
    rounded = model.fused_for_inference(conv_dtype="bfloat16")
    assert all(isinstance(b.conv, BFloat16Conv) for b in rounded.blocks)
    assert all(isinstance(b.conv, nn.Conv2d) for b in model.blocks)   # the original is left
    assert rounded.state_dict().keys() == fused.state_dict().keys()
    kept = {k: v for k, v in rounded.state_dict().items() if not k.endswith("conv.weight")}
    assert all(torch.equal(v, fused.state_dict()[k]) for k, v in kept.items())
    x = spike_input(1, 2, 2, *config.input_size)
    with torch.inference_mode():
        block = fused.blocks[0]
        exact = block.bn(block.conv(x[0].contiguous(memory_format=torch.channels_last)))
        block = rounded.blocks[0]
        close = block.bn(block.conv(x[0].contiguous(memory_format=torch.channels_last)))
        torch.testing.assert_close(close, exact, rtol=0, atol=2e-2 * exact.abs().max().item())
        scores, _, _ = rounded.step(x[0], rounded.init_state(2))
    assert scores.dtype == torch.float32 and torch.isfinite(scores).all()
    with pytest.raises(ValueError, match="conv_dtype"):
        model.fused_for_inference(conv_dtype="float16")


def test_bfloat16_is_native_only_with_the_instructions(monkeypatch):
    """oneDNN says yes to bfloat16 on any AVX512 CPU, where it emulates it slower than
    float32: the CPU must also have AVX512-BF16 or AMX."""
    from live_snn.model import inference

    cpu = torch.device("cpu")
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True,
                        raising=False)
    for avx512_bf16, amx, native in [(False, False, False), (True, False, True),
                                     (False, True, True)]:
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda v=avx512_bf16: v,
                            raising=False)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda v=amx: v,
                            raising=False)
        assert inference.bfloat16_is_native(cpu) is native
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False,
                        raising=False)
    assert not inference.bfloat16_is_native(cpu)  # a oneDNN capped below bfloat16
