"""Helpers for the model tests: spike-like inputs, and a network whose every layer is active.

A freshly initialised network in eval mode (BatchNorm running stats 0 / 1) is almost silent
after its first block, so an equality test on it could not fail. ``activate`` gives it
realistic BatchNorm statistics (measured on data, as training would leave them), random
affine BatchNorm parameters and larger FC / attention weights, so that every spiking layer
fires and every gate varies: the tests assert that before comparing anything.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn


def spike_like(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Raw event counts per bin: mostly zero, small integers elsewhere."""
    active = torch.rand(shape, generator=generator) < 0.3
    counts = torch.randint(1, 6, shape, generator=generator).float()
    return counts * active


def activate(model: nn.Module, calibration: torch.Tensor, generator: torch.Generator) -> nn.Module:
    """Measure BatchNorm statistics on ``calibration`` [T, B, 2, H, W], then set weights that
    keep every layer firing; returns the model in eval mode."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration pass
    model.train()
    with torch.no_grad():
        model(calibration)
        for bn in norms:
            bn.weight.copy_(1.0 + torch.rand(bn.weight.shape, generator=generator))
            bn.bias.copy_(0.5 * torch.rand(bn.bias.shape, generator=generator))
            bn.momentum = 0.1
        model.fc_hidden.weight.mul_(6.0)
        model.fc_out.weight.mul_(12.0)
        for block in model.blocks:
            if block.tcja is not None:
                block.tcja.temporal.weight.mul_(4.0)
                block.tcja.channel.weight.mul_(4.0)
            if block.tim is not None:
                block.tim.interact.weight.mul_(4.0)
                block.tim.interact.bias.fill_(0.5)
    return model.eval()


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


@pytest.fixture
def spike_input(generator: torch.Generator):
    """``spike_input(T, B, C, H, W)`` -> raw counts."""
    return lambda *shape: spike_like(tuple(shape), generator)


@pytest.fixture
def active_model(generator: torch.Generator):
    """``active_model(config, steps=4, batch=2)`` -> an activated network in eval mode."""
    from live_snn.model import build_model

    def make(config, steps: int = 4, batch: int = 2) -> nn.Module:
        torch.manual_seed(int(torch.randint(0, 2**31, (1,), generator=generator)))
        model = build_model(config)
        h, w = config.input_size
        calibration = spike_like((steps, batch, config.in_channels, h, w), generator)
        return activate(model, calibration, generator)

    return make
