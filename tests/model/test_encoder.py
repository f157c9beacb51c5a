"""GAC, the gated attention encoder: S ⊙ sigmoid(TA ⊙ SCA) with a causal TA, written out
step by step; step() equals forward() and the gate never looks ahead."""

from __future__ import annotations

import torch

from live_snn.model.encoder import GAC


def inputs(T=6, B=2, C=4, H=5, W=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    u = 1.5 * torch.randn(T, B, C, H, W, generator=g)
    return (u >= 1.0).float(), u


def fresh(gac: GAC, B: int = 2):
    return gac.init_state(B, (5, 5), torch.device("cpu"), torch.float32)


def test_gac_equals_its_formula():
    torch.manual_seed(0)
    gac = GAC(4, kernel=3, reduction=2, ema_decay=0.5)
    s, u = inputs()
    with torch.no_grad():
        y, _, tap, _ = gac(s, u, fresh(gac))
        ema = torch.zeros(2, 2)
        for t in range(6):
            pooled = torch.stack([u[t].mean(dim=(1, 2, 3)), u[t].amax(dim=(1, 2, 3))], dim=1)
            ema = 0.5 * ema + 0.5 * pooled                    # causal statistics, [B, (avg, max)]
            ta = (gac.ta(torch.stack([pooled[:, 0], ema[:, 0]], dim=1))
                  + gac.ta(torch.stack([pooled[:, 1], ema[:, 1]], dim=1)))[:, 0]   # shared MLP
            sca = gac.sca(u[t])
            gate = torch.sigmoid(ta[:, None, None, None] * sca)
            torch.testing.assert_close(y[t], s[t] * gate)
            torch.testing.assert_close(tap.branch_a[t], ta[:, None].expand(2, 4))
            torch.testing.assert_close(tap.branch_b[t], sca.mean(dim=(2, 3)))
            torch.testing.assert_close(tap.gate[t], gate.mean(dim=(2, 3)))
    assert tap.gate.std() > 1e-3


def test_gac_step_equals_forward_and_ignores_the_future():
    torch.manual_seed(1)
    gac = GAC(4, kernel=3, reduction=4, ema_decay=0.75)
    s, u = inputs(seed=3)
    with torch.no_grad():
        y, end, _, _ = gac(s, u, fresh(gac))
        state, steps = fresh(gac), []
        for t in range(6):
            y_t, state, _, _ = gac.step(s[t], u[t], state)
            steps.append(y_t)
        torch.testing.assert_close(torch.stack(steps), y, rtol=0, atol=1e-6)
        torch.testing.assert_close(state["ema"], end["ema"], rtol=0, atol=1e-7)
        u2 = u.clone()
        u2[4:] *= 3.0
        y2, _, _, _ = gac(s, u2, fresh(gac))
    assert torch.equal(y2[:4], y[:4]) and not torch.equal(y2[4:], y[4:])
