"""TCJA: the window module equals the published formula, the causal module equals its own
formula and streams, and window mode streams through the ring buffer by re-running the last
T frames. Expected values are computed with explicit loops over the formulas of DESIGN.md."""

from __future__ import annotations

import math

import pytest
import torch

from live_snn.engine.ring_buffer import RingBuffer
from live_snn.model import ModelConfig, build_model
from live_snn.model.attention import TCJACausal, TCJAWindow


def fixed_weights(shape: tuple[int, ...], scale: float) -> torch.Tensor:
    """Deterministic, sign-varying weights: scale * ((i * 7) % 11 - 5) / 5."""
    n = math.prod(shape)
    return torch.tensor([scale * (((i * 7) % 11) - 5) / 5 for i in range(n)]).reshape(shape)


def small_input(T: int, B: int, C: int, H: int = 2, W: int = 3) -> torch.Tensor:
    g = torch.Generator().manual_seed(7)
    return (torch.rand(T, B, C, H, W, generator=g) < 0.5).float()


def at(z: list[list[float]], t: int, c: int) -> float:
    """Z[t][c], zero outside the sequence or the channels (the convolutions' zero padding)."""
    return z[t][c] if 0 <= t < len(z) and 0 <= c < len(z[0]) else 0.0


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def squeeze_loops(x: torch.Tensor, b: int) -> list[list[float]]:
    T, _, C, H, W = x.shape
    return [[sum(x[t, b, c, i, j].item() for i in range(H) for j in range(W)) / (H * W)
             for c in range(C)] for t in range(T)]


@pytest.mark.parametrize(("kernel_t", "kernel_c"), [(4, 4), (2, 3)])
def test_window_tcja_equals_the_published_formula(kernel_t, kernel_c):
    T, B, C = 3, 2, 4
    tcja = TCJAWindow(C, T, kernel_t, kernel_c)
    with torch.no_grad():
        tcja.temporal.weight.copy_(fixed_weights((C, C, kernel_t), 0.9))
        tcja.channel.weight.copy_(fixed_weights((T, T, kernel_c), 1.1))
    x = small_input(T, B, C)
    y, _, tap, _ = tcja(x)

    wa, wb = tcja.temporal.weight, tcja.channel.weight
    p_t, p_c = (kernel_t - 1) // 2, (kernel_c - 1) // 2   # PyTorch 'same': extra pad on the right
    for b in range(B):
        z = squeeze_loops(x, b)
        for t in range(T):
            for c in range(C):
                a = sum(wa[c, c2, j].item() * at(z, t + j - p_t, c2)
                        for c2 in range(C) for j in range(kernel_t))
                bb = sum(wb[t, t2, j].item() * at(z, t2, c + j - p_c)
                         for t2 in range(T) for j in range(kernel_c))
                m = sigmoid(a * bb)
                assert tap.branch_a[t, b, c].item() == pytest.approx(a, abs=1e-6)
                assert tap.branch_b[t, b, c].item() == pytest.approx(bb, abs=1e-6)
                assert tap.gate[t, b, c].item() == pytest.approx(m, abs=1e-6)
                torch.testing.assert_close(y[t, b, c], x[t, b, c] * m, rtol=1e-6, atol=1e-7)


def test_window_tcja_refuses_a_window_of_another_length():
    tcja = TCJAWindow(4, 5, 4, 4)
    with pytest.raises(ValueError, match="T = 5 steps, got 3"):
        tcja(small_input(3, 1, 4))


def causal_expected(x: torch.Tensor, wa: torch.Tensor, u: torch.Tensor, kernel_c: int):
    """Loops over A_t = Σ_d Wa[:,:,d] Z_{t-d}, B_t[c] = Σ_d Σ_j U[d,j] Z_{t-d}[c+j-p]."""
    T, B, C = x.shape[:3]
    K, L = wa.shape[2], u.shape[0]
    p = (kernel_c - 1) // 2
    out = []
    for b in range(B):
        z = squeeze_loops(x, b)
        for t in range(T):
            for c in range(C):
                a = sum(wa[c, c2, d].item() * at(z, t - d, c2) for c2 in range(C) for d in range(K))
                bb = sum(u[d, j].item() * at(z, t - d, c + j - p)
                         for d in range(L) for j in range(kernel_c))
                out.append((t, b, c, a, bb, sigmoid(a * bb)))
    return out


@pytest.mark.parametrize(("kernel_t", "kernel_c", "lags"), [(4, 4, 4), (2, 3, 3), (3, 1, 2)])
def test_causal_tcja_equals_its_formula_in_forward_and_step(kernel_t, kernel_c, lags):
    T, B, C = 5, 2, 4
    tcja = TCJACausal(C, kernel_t, kernel_c, lags)
    with torch.no_grad():
        tcja.temporal.weight.copy_(fixed_weights((C, C, kernel_t), 0.9))
        tcja.channel.weight.copy_(fixed_weights((1, 1, lags, kernel_c), 1.3))
    # Lag d in the formula is tap K-1-d in PyTorch's convolution layout (newest step last).
    wa = tcja.temporal.weight.flip(2)
    u = tcja.channel.weight[0, 0].flip(0)
    x = small_input(T, B, C)
    state = tcja.init_state(B, (2, 3), torch.device("cpu"), torch.float32)
    y, _, tap, _ = tcja(x, state)
    stepped = []
    for t in range(T):
        y_t, state, tap_t, _ = tcja.step(x[t], state)
        stepped.append((y_t, tap_t))
    for t, b, c, a, bb, m in causal_expected(x, wa, u, kernel_c):
        assert tap.branch_a[t, b, c].item() == pytest.approx(a, abs=1e-6)
        assert tap.branch_b[t, b, c].item() == pytest.approx(bb, abs=1e-6)
        assert tap.gate[t, b, c].item() == pytest.approx(m, abs=1e-6)
        assert stepped[t][1].gate[b, c].item() == pytest.approx(m, abs=1e-6)
        torch.testing.assert_close(stepped[t][0][b, c], x[t, b, c] * m, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(torch.stack([s[0] for s in stepped]), y, rtol=1e-6, atol=1e-7)


def test_causal_tcja_gate_ignores_the_future():
    tcja = TCJACausal(4, 4, 4, 4)
    x = small_input(6, 1, 4)
    state = tcja.init_state(1, (2, 3), torch.device("cpu"), torch.float32)
    _, _, tap, _ = tcja(x, state)
    changed = x.clone()
    changed[4:] = 1.0 - changed[4:]
    _, _, tap_changed, _ = tcja(changed, state)
    assert torch.equal(tap.gate[:4], tap_changed.gate[:4])
    assert not torch.equal(tap.gate[4:], tap_changed.gate[4:])


def test_window_mode_streams_through_the_ring_buffer(active_model, spike_input):
    config = ModelConfig(preset="nmnist", attention="window", T=6)
    model = active_model(config, steps=config.T)
    frames = spike_input(11, 2, 34, 34)  # 11 > capacity 8: the ring wraps around
    ring = RingBuffer(capacity=8, frame_shape=(2, 34, 34))
    with torch.inference_mode():
        for k, frame in enumerate(frames):
            ring.push(frame)
            if len(ring) < config.T:
                continue
            live, live_taps = model(ring.window(config.T)[:, None], return_taps=True)
            offline, offline_taps = model(frames[k - config.T + 1:k + 1, None], return_taps=True)
            assert torch.equal(live[-1], offline[-1])
            for name in model.attention_layers:
                assert torch.equal(live_taps.at(-1).attention[name].gate,
                                   offline_taps.at(-1).attention[name].gate)
        assert offline[-1].sum() > 0, "the network should produce output spikes"
    assert not model.streams_by_step
    with pytest.raises(RuntimeError, match="re-run"):
        model.step(frames[0][None], model.init_state(1))


def test_paper_window_network_has_the_published_tcja_shapes():
    model = build_model(ModelConfig(preset="paper", attention="window"))
    for name in ("blocks.3", "blocks.4"):
        tcja = model.get_submodule(name).tcja
        assert isinstance(tcja, TCJAWindow)
        assert tuple(tcja.temporal.weight.shape) == (128, 128, 4)  # C -> C over time
        assert tuple(tcja.channel.weight.shape) == (20, 20, 4)     # T -> T over channels
    assert all(model.get_submodule(f"blocks.{i}").tcja is None for i in range(3))
