import numpy as np
import pytest
import torch

from live_snn.train.sessions import concat_clips
from live_snn.train.windows import WindowSampler, WindowSpec


def _session(n_clips=4, clip_len=10, name="s"):
    clips = [torch.full((clip_len, 2, 4, 4), i + 1, dtype=torch.uint8) for i in range(n_clips)]
    return concat_clips(name, clips, list(range(n_clips)), 1000, gap_bins=2)


def test_masks_follow_burn_in_grace_and_rest():
    spec = WindowSpec(length=12, burn_in=3, grace=2)
    sampler = WindowSampler([_session()], spec, seed=0)
    batch = sampler.gather(np.array([0]), np.array([5]))
    labels = batch.targets[:, 0].tolist()
    assert labels == [0] * 5 + [-1, -1] + [1] * 5  # bins 5..16
    loss = batch.loss_mask[:, 0].tolist()
    rest = batch.rest_mask[:, 0].tolist()
    # step 0-2 burn-in; steps 3,4 are clip 0 bins 8,9 (after grace); 5,6 gap; 7,8 grace of clip 1
    assert loss == [False] * 3 + [True, True] + [False] * 4 + [True] * 3
    assert rest == [False] * 5 + [True, True] + [False] * 5
    assert batch.frames.shape == (12, 1, 2, 4, 4) and batch.frames.dtype == torch.float32


def test_same_step_same_windows_and_ranks_differ():
    spec = WindowSpec(length=8, burn_in=2)
    a = WindowSampler([_session()], spec, seed=5).batch(step=3, batch_size=6)
    b = WindowSampler([_session()], spec, seed=5).batch(step=3, batch_size=6)
    c = WindowSampler([_session()], spec, seed=5, rank=1).batch(step=3, batch_size=6)
    assert torch.equal(a.frames, b.frames) and torch.equal(a.targets, b.targets)
    assert not torch.equal(a.targets, c.targets)


def test_every_offset_is_reachable_and_within_bounds():
    spec = WindowSpec(length=30, burn_in=5)
    short = _session(n_clips=1, clip_len=10, name="short")  # shorter than a window: padded
    long = _session(n_clips=4, clip_len=10, name="long")
    sampler = WindowSampler([short, long], spec, seed=1)
    assert sampler.num_offsets == 1 + (46 - 30 + 1)
    for step in range(20):
        batch = sampler.batch(step, 4)
        assert batch.frames.shape[0] == 30


def test_shift_moves_events_without_wrapping():
    spec = WindowSpec(length=2, max_shift=1)
    frames = torch.zeros((2, 2, 4, 4), dtype=torch.uint8)
    frames[:, 0, 0, 3] = 1
    s = concat_clips("s", [frames], [0], 1000)
    sampler = WindowSampler([s], spec, seed=0)
    batch = sampler.gather(np.array([0]), np.array([0]), shifts=np.array([[1, 1]]))
    assert batch.frames.sum() == 0  # moved off the right edge, not wrapped to the left
    batch = sampler.gather(np.array([0]), np.array([0]), shifts=np.array([[-1, 1]]))
    assert batch.frames[0, 0, 0, 1, 2] == 1


def test_steps_per_epoch_covers_all_bins():
    spec = WindowSpec(length=10, burn_in=4)
    sampler = WindowSampler([_session()], spec, seed=0)
    assert sampler.total_bins == 46
    assert sampler.steps_per_epoch(batch_size=2) == 4  # ceil(46 / (2 * 6))


def test_bad_specs_are_rejected():
    with pytest.raises(ValueError, match="burn_in"):
        WindowSpec(length=5, burn_in=5)
    with pytest.raises(ValueError, match="frame shape"):
        WindowSampler([_session(), concat_clips(
            "b", [torch.zeros((40, 2, 3, 3), dtype=torch.uint8)], [0], 1000)],
            WindowSpec(length=4), seed=0)
