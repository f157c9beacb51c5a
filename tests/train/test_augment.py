"""Transfer augmentations of training windows: each does what it says, is reproducible, and
leaves a run without augmentation exactly as it was."""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
import pytest
import torch

from live_snn.train import augment
from live_snn.train.augment import Augmentation, WindowAugmentation
from live_snn.train.sessions import LabelledSession, Segment
from live_snn.train.windows import WindowSampler, WindowSpec


def _drawn(batch: int, **values) -> WindowAugmentation:
    fields = dict(keep=np.ones(batch), noise_per_bin=np.zeros(batch), zoom=np.ones(batch),
                  angle=np.zeros(batch), speed=np.ones(batch), torch_seed=3)
    fields.update({k: np.asarray(v, dtype=float) if k != "torch_seed" else v for k, v in values.items()})
    return WindowAugmentation(**fields)


def test_parse_reads_every_spelling_and_refuses_the_rest():
    a = Augmentation.parse("dropout=0.3, noise=2,scale=0.15,rotate=10,stretch=0.2")
    assert a == Augmentation(event_dropout=0.3, noise_hz=2.0, scale=0.15, rotate_deg=10.0, time_stretch=0.2)
    assert a.active and not Augmentation.parse(None).active
    with pytest.raises(ValueError, match="KEY=VALUE"):
        Augmentation.parse("blur=2")
    with pytest.raises(ValueError, match="needs a number"):
        Augmentation.parse("noise=lots")
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        Augmentation.parse("dropout=1.5")
    assert Augmentation.of(asdict(a)) == a  # as a saved run records it


def test_dropout_thins_the_counts_binomially():
    frames = torch.full((10, 2, 2, 16, 16), 20.0)
    out = augment.apply(frames, _drawn(2, keep=[0.25, 1.0]))
    assert out[:, 1].equal(frames[:, 1])
    kept = out[:, 0].sum() / frames[:, 0].sum()
    assert abs(kept.item() - 0.25) < 0.02
    assert torch.equal(out, out.round())  # still counts


def test_noise_adds_poisson_events_at_the_drawn_rate():
    frames = torch.zeros((50, 1, 2, 32, 32))
    out = augment.apply(frames, _drawn(1, noise_per_bin=[0.1]))
    assert abs(out.mean().item() - 0.1) < 0.01
    assert out.min() >= 0 and torch.equal(out, out.round())


def test_rotation_turns_events_about_the_centre():
    frames = torch.zeros((1, 1, 2, 32, 32))
    frames[0, 0, 1, 8, 20] = 3.0  # y=8, x=20
    out = augment.apply(frames, _drawn(1, angle=[math.pi / 2]))
    y, x = (int(v) for v in torch.nonzero(out[0, 0, 1])[0])
    # About the centre (15.5, 15.5), a quarter turn on screen (y down) takes (x, y) = (20, 8)
    # to (15.5 - (8 - 15.5), 15.5 + (20 - 15.5)) = (23, 20), whichever way affine_grid turns.
    assert (x, y) in {(23, 20), (8, 11)}
    assert out.sum() == 3.0


def test_zoom_moves_events_away_from_the_centre():
    frames = torch.zeros((1, 1, 2, 32, 32))
    frames[0, 0, 0, 16, 24] = 1.0
    out = augment.apply(frames, _drawn(1, zoom=[1.5]))
    xs = torch.nonzero(out[0, 0, 0])[:, 1]
    assert xs.min() > 24  # further right of the centre (x = 15.5)


def test_time_stretch_resamples_bins_and_scales_counts():
    assert augment.stretched_bins(5, 2.0).tolist() == [0, 2, 4, 6, 8]
    assert augment.stretched_bins(4, 0.5).tolist() == [0, 0, 1, 1]
    frames = torch.full((200, 1, 2, 8, 8), 3.0)
    out = augment.apply(frames, _drawn(1, speed=[1.5]))
    assert abs(out.mean().item() - 4.5) < 0.05  # 1.5 x as many events per bin


def _sessions(n_bins: int = 200) -> list[LabelledSession]:
    frames = torch.randint(0, 4, (n_bins, 2, 16, 16), dtype=torch.uint8)
    labels = torch.full((n_bins,), -1, dtype=torch.int64)
    labels[50:150] = 2
    since = torch.full((n_bins,), -1, dtype=torch.int64)
    since[50:150] = torch.arange(100)
    return [LabelledSession("s", frames, labels, since, (Segment(2, 50, 150),), 20_000)]


def test_sampler_draws_reproducible_augmented_windows_and_leaves_plain_runs_alone():
    plain = WindowSampler(_sessions(), WindowSpec(length=20, burn_in=4), seed=7)
    spec = WindowSpec(length=20, burn_in=4,
                      augment=Augmentation(event_dropout=0.3, noise_hz=5, scale=0.1, rotate_deg=10,
                                           time_stretch=0.3))
    augmented = WindowSampler(_sessions(), spec, seed=7)
    a, b = augmented.batch(3, 4), augmented.batch(3, 4)
    assert torch.equal(a.frames, b.frames) and torch.equal(a.targets, b.targets)
    assert not torch.equal(a.frames, plain.batch(3, 4).frames)
    # Without augmentation the windows are exactly those drawn before augmentation existed:
    # the raw bins of the drawn offsets.
    raw = plain.batch(3, 4)
    rng = np.random.default_rng([7, 3, 0])
    offsets = rng.integers(0, plain.num_offsets, size=4)
    expected = torch.stack([plain.sessions[0].frames[o:o + 20] for o in offsets], dim=1).float()
    assert torch.equal(raw.frames, expected)
    assert a.frames.shape == raw.frames.shape and a.targets.shape == raw.targets.shape
