"""The LIF neuron: equal to spikingjelly's LIFNode in outputs and gradients; one step at a
time equals the multi-step form; the inference path equals the autograd path."""

from __future__ import annotations

import math

import pytest
import torch

from live_snn.model.neuron import LIF, ATanSpike, spike_rate


def currents(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (1.6 * torch.randn(shape, generator=g) + 0.6).requires_grad_(True)


def test_lif_equals_spikingjelly_in_outputs_and_gradients():
    sj_neuron = pytest.importorskip("spikingjelly.activation_based.neuron")
    sj_surrogate = pytest.importorskip("spikingjelly.activation_based.surrogate")
    reference = sj_neuron.LIFNode(tau=2.0, decay_input=True, v_threshold=1.0, v_reset=0.0,
                                  detach_reset=True, surrogate_function=sj_surrogate.ATan(alpha=2.0),
                                  step_mode="m")
    x_ref = currents((12, 3, 5, 7))
    x_ours = x_ref.detach().clone().requires_grad_(True)
    upstream = torch.randn(x_ref.shape, generator=torch.Generator().manual_seed(1))

    s_ref = reference(x_ref)
    s_ours, _ = LIF(tau=2.0, v_threshold=1.0, surrogate_alpha=2.0)(x_ours, torch.zeros(3, 5, 7))
    # A loss that depends on spikes at every step, so gradients cross time through v.
    (s_ref * upstream).sum().backward()
    (s_ours * upstream).sum().backward()

    assert 0.05 < s_ours.mean().item() < 0.6, "inputs should make the neurons fire sometimes"
    assert torch.equal(s_ours, s_ref)
    assert torch.count_nonzero(x_ours.grad) > 0.5 * x_ours.numel()
    torch.testing.assert_close(x_ours.grad, x_ref.grad, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(reference.v, LIF()(x_ours.detach(), torch.zeros(3, 5, 7))[1])


def test_atan_surrogate_gradient_formula():
    x = torch.tensor([-1.0, -0.25, 0.0, 0.3, 2.0], requires_grad=True)
    ATanSpike.apply(x, 2.0).sum().backward()
    # g'(x) = alpha / (2 (1 + (pi/2 alpha x)^2)) with alpha = 2
    expected = [1.0 / (1.0 + (math.pi * v) ** 2) for v in x.detach().tolist()]
    torch.testing.assert_close(x.grad, torch.tensor(expected))


def test_step_by_step_equals_multi_step_and_state_carries():
    lif = LIF()
    x = currents((10, 2, 4)).detach()
    s_all, v_all = lif(x, torch.zeros(2, 4))
    v = torch.zeros(2, 4)
    for t in range(10):
        s_t, v = lif.step(x[t], v)
        assert torch.equal(s_t, s_all[t])
    assert torch.equal(v, v_all)
    # Two halves with the membrane carried equal one pass.
    s_a, v_mid = lif(x[:4], torch.zeros(2, 4))
    s_b, v_end = lif(x[4:], v_mid)
    assert torch.equal(torch.cat([s_a, s_b]), s_all) and torch.equal(v_end, v_all)


def test_hard_reset_decay_and_threshold_by_hand():
    lif = LIF(tau=2.0, v_threshold=1.0)
    x = torch.tensor([1.5, 1.5, 0.4, 3.0, 0.0])
    spikes, v = lif(x[:, None], torch.zeros(1))
    # h: 0.75 (no), 0.75 + 0.375 = 1.125 (fire, v -> 0), 0.2, 1.6 (fire), 0
    assert spikes[:, 0].tolist() == [0.0, 1.0, 0.0, 1.0, 0.0]
    assert v.item() == 0.0


def test_inference_path_equals_autograd_path():
    lif = LIF()
    x = currents((6, 3, 8))
    with_grad, v_grad = lif(x, torch.zeros(3, 8))
    with torch.inference_mode():
        without, v_plain = lif(x.detach(), torch.zeros(3, 8))
    assert torch.equal(with_grad.detach(), without)
    assert torch.equal(v_grad.detach(), v_plain)


@pytest.mark.parametrize("tau", [2.0, 4.0, 3.0, 1.5])
@pytest.mark.parametrize("no_autograd", [torch.no_grad, torch.inference_mode])
def test_fast_inference_update_is_bit_identical_to_the_autograd_path(tau, no_autograd):
    # tau = 2, 4: the one-pass lerp update; 3, 1.5: sub, div, add. Channels-last maps as in
    # the blocks, many steps, currents spread around the threshold so that neurons fire,
    # reset and sit exactly on the threshold.
    lif = LIF(tau=tau)
    g = torch.Generator().manual_seed(5)
    x = (1.6 * torch.randn(20, 3, 8, 6, 5, generator=g) + 0.6).contiguous(
        memory_format=torch.channels_last_3d)
    x[3, 0, 0, 0, :] = 2.0 * lif.v_threshold  # h = V_th exactly from v = 0: it fires
    x = x.requires_grad_(True)
    v0 = torch.zeros(x.shape[1:])
    with_grad, v_grad = lif(x, v0)
    with no_autograd():
        without, v_plain = lif(x.detach(), v0)
    assert 0.05 < without.mean().item() < 0.6
    assert torch.equal(with_grad.detach(), without)
    assert torch.equal(v_grad.detach(), v_plain)
    assert without.dtype == x.dtype


def test_overwrite_input_reuses_the_input_memory_for_the_same_values():
    lif = LIF()
    g = torch.Generator().manual_seed(6)
    x = 1.6 * torch.randn(4, 5, 6, generator=g) + 0.6
    v = torch.rand(4, 5, 6, generator=g)
    with torch.inference_mode():
        expected_s, expected_v = lif.step(x, v)
        kept = x.clone()
        s, v_next = lif.step(kept, v, overwrite_input=True)
    assert torch.equal(s, expected_s) and torch.equal(v_next, expected_v)
    assert v_next.data_ptr() == kept.data_ptr()
    with torch.inference_mode():
        lif.step(x, v)
    assert torch.equal(x, 1.6 * torch.randn(4, 5, 6, generator=torch.Generator().manual_seed(6))
                       + 0.6), "without overwrite_input the input is left alone"


def test_spike_rate_averages_feature_axes():
    spikes = torch.zeros(2, 3, 4, 2, 2)
    spikes[0, 1, :2] = 1.0
    rates = spike_rate(spikes, 3)
    assert rates.shape == (2, 3)
    assert rates[0, 1].item() == pytest.approx(0.5) and rates.sum().item() == pytest.approx(0.5)


def test_lif_rejects_a_non_leaking_tau():
    with pytest.raises(ValueError, match="tau must be > 1"):
        LIF(tau=1.0)
