"""TIM (the temporal interaction recurrence) against its formula, written out step by step;
causal TCJA and window TCJA are covered in test_tcja.py."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from live_snn.model.attention import TIM
from live_snn.model.neuron import LIF


def make_tim(channels: int = 3, out_threshold: float = 0.25) -> TIM:
    return TIM(channels, kernel=3, alpha=0.5, lif_in=LIF(2.0, 1.0, 2.0),
               lif_out=LIF(2.0, out_threshold, 2.0))


def binary_spikes(shape, seed=0):
    return (torch.rand(shape, generator=torch.Generator().manual_seed(seed)) < 0.4).float()


def test_tim_equals_its_recurrence():
    torch.manual_seed(0)
    tim = make_tim()
    with torch.no_grad():
        tim.interact.weight.mul_(6.0)
        tim.interact.bias.fill_(0.4)
    q = binary_spikes((7, 2, 3, 5, 4))
    state = tim.init_state(2, (5, 4), torch.device("cpu"), torch.float32)
    with torch.no_grad():
        y, _, tap, rates = tim(q, state)

    w, b = tim.interact.weight, tim.interact.bias
    mix = torch.zeros(2, 3, 5, 4)
    v_in = torch.zeros_like(mix)
    v_out = torch.zeros_like(mix)
    for t in range(7):
        c = F.conv2d(mix, w, b, padding=1, groups=3)          # depthwise, on x̃_{t-1}
        h_in = v_in + (c - v_in) / 2.0
        s_in = (h_in >= 1.0).float()
        v_in = torch.where(s_in > 0, torch.zeros_like(h_in), h_in)
        mix = 0.5 * s_in + 0.5 * q[t]                         # x̃_t
        h_out = v_out + (mix - v_out) / 2.0
        expected = (h_out >= 0.25).float()
        v_out = torch.where(expected > 0, torch.zeros_like(h_out), h_out)
        torch.testing.assert_close(y[t], expected)
        torch.testing.assert_close(tap.gate[t], mix.mean(dim=(2, 3)))
        torch.testing.assert_close(tap.branch_a[t], s_in.mean(dim=(2, 3)))
        torch.testing.assert_close(tap.branch_b[t], q[t].mean(dim=(2, 3)))
        torch.testing.assert_close(rates["lif_in"][t], s_in.flatten(1).mean(1))
    assert 0 < rates["lif_in"].mean() < 1, "the recurrent branch should fire sometimes"
    assert (y.sum() > q.sum()), "spikes of the recurrent branch are added"


def test_untrained_tim_is_transparent_to_binary_spikes():
    tim = make_tim()
    with torch.no_grad():
        tim.interact.weight.zero_()
        tim.interact.bias.zero_()
    q = binary_spikes((6, 1, 3, 4, 4), seed=1)
    y, _, _, _ = tim(q, tim.init_state(1, (4, 4), torch.device("cpu"), torch.float32))
    assert torch.equal(y, q)


def test_tim_step_equals_forward_across_two_calls():
    torch.manual_seed(1)
    tim = make_tim()
    with torch.no_grad():
        tim.interact.weight.mul_(6.0)
    q = binary_spikes((8, 2, 3, 4, 4), seed=2)
    state = tim.init_state(2, (4, 4), torch.device("cpu"), torch.float32)
    with torch.no_grad():
        y, _, _, _ = tim(q, state)
        first, mid, _, _ = tim(q[:3], state)
        outs = [first]
        s = mid
        for t in range(3, 8):
            y_t, s, _, _ = tim.step(q[t], s)
            outs.append(y_t[None])
    assert torch.equal(torch.cat(outs), y)


def test_an_attention_tap_has_exactly_the_named_parts():
    """Every reader of the taps (engine records, history, export, GUI) names the parts by
    live_snn.taps.ATTENTION_PARTS: the model's tap must have those, in that order."""
    from dataclasses import fields

    from live_snn.model.state import AttentionTap
    from live_snn.taps import ATTENTION_PARTS

    assert tuple(f.name for f in fields(AttentionTap)) == ATTENTION_PARTS
