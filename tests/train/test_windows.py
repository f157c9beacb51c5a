import numpy as np
import pytest
import torch

from live_snn.train.augment import Augmentation
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


def test_a_window_played_backwards_reverses_time_swaps_polarity_and_maps_labels():
    # Clip i fills OFF with i + 1 and ON with 10 * (i + 1); classes 0 <-> 1 swap backwards.
    clips = []
    for i in range(3):
        clip = torch.zeros((10, 2, 4, 4), dtype=torch.uint8)
        clip[:, 0], clip[:, 1] = i + 1, 10 * (i + 1)
        clip[:, :, 0, 0] = torch.arange(10, dtype=torch.uint8)[:, None]  # time stamp pixel
        clips.append(clip)
    session = concat_clips("s", clips, [0, 1, 2], 1000, gap_bins=2)
    spec = WindowSpec(length=12, burn_in=0, grace=3, time_reverse=1.0)
    sampler = WindowSampler([session], spec, seed=0, reversed_class=(1, 0, 2))
    forwards = sampler.gather(np.array([0]), np.array([5]))
    backwards = sampler.gather(np.array([0]), np.array([5]), backwards=np.array([True]))
    assert torch.equal(backwards.frames[:, 0], forwards.frames.flip(0)[:, 0][:, [1, 0]])
    # bins 5..16 forwards: clip 0 bins 5-9, gap, clip 1 bins 0-4; backwards: clip 1 bins 4..0
    # (label 1 -> 0), gap, clip 0 bins 9..5 (label 0 -> 1)
    assert backwards.targets[:, 0].tolist() == [0] * 5 + [-1, -1] + [1] * 5
    assert backwards.frames[:5, 0, 0, 0, 0].tolist() == [4, 3, 2, 1, 0]
    # grace counts from the start of each reversed segment, its original end: clip 1 bins
    # 4..0 are 5..9 bins into it; clip 0 bins 9..5 are its first five (grace 3)
    assert backwards.loss_mask[:, 0].tolist() == [True] * 5 + [False] * 5 + [True, True]
    assert backwards.rest_mask[:, 0].tolist() == [False] * 5 + [True, True] + [False] * 5


def test_time_reversal_is_drawn_per_window_and_needs_a_class_table():
    spec = WindowSpec(length=8, burn_in=2, time_reverse=0.5)
    with pytest.raises(ValueError, match="reversed_class"):
        WindowSampler([_session()], spec, seed=0)
    sampler = WindowSampler([_session()], spec, seed=0, reversed_class=(1, 0, 2, 3))
    plain = WindowSampler([_session()], WindowSpec(length=8, burn_in=2), seed=0)
    a, b = sampler.batch(step=4, batch_size=64), plain.batch(step=4, batch_size=64)
    # same windows drawn; about half of them backwards (reversed: first frame = last frame)
    flipped = [not torch.equal(a.frames[:, i], b.frames[:, i]) for i in range(64)]
    assert 16 < sum(flipped) < 48
    with pytest.raises(ValueError, match="probability"):
        WindowSpec(length=8, time_reverse=1.5)


def _starts(targets: torch.Tensor) -> set[int]:
    """Positions where a labelled segment begins within one window's targets."""
    t = targets.tolist()
    return {p for p, label in enumerate(t) if label >= 0 and (p == 0 or t[p - 1] < 0)}


@pytest.mark.parametrize("time_reverse", [0.0, 0.5])
def test_onset_windows_put_a_gesture_start_in_the_first_half_of_the_loss_steps(time_reverse):
    session = _session(n_clips=6, clip_len=10)
    spec = WindowSpec(length=12, burn_in=3, time_reverse=time_reverse, onset_windows=1.0)
    sampler = WindowSampler([session], spec, seed=0, reversed_class=(0, 1, 2, 3, 4, 5))
    early = set(range(3, 3 + 9 // 2))
    batch = sampler.batch(step=0, batch_size=200)
    landed = [bool(_starts(batch.targets[:, b]) & early) for b in range(200)]
    # Only the session's first segment (forwards) and last (backwards) cannot be framed so:
    # their window is clipped to the session, and their start lands on step 0.
    for b in np.flatnonzero(~np.array(landed)):
        assert 0 in _starts(batch.targets[:, b])
    assert sum(landed) >= 150  # 5 of the 6 segments can be framed: about 167 of 200
    uniform = WindowSampler([session], WindowSpec(length=12, burn_in=3), seed=0)
    batch = uniform.batch(step=0, batch_size=200)
    assert sum(bool(_starts(batch.targets[:, b]) & early) for b in range(200)) < 200 * 0.5


def test_a_placed_start_is_exactly_where_the_loss_steps_begin_or_just_after():
    """Forwards the segment's first bin is at step burn_in + lead, lead in [0, loss_steps // 2);
    backwards its last bin is, so the reversed segment starts there."""
    session = _session(n_clips=6, clip_len=10)
    for backwards in (False, True):
        spec = WindowSpec(length=12, burn_in=3, time_reverse=float(backwards), onset_windows=1.0)
        sampler = WindowSampler([session], spec, seed=1, reversed_class=(0, 1, 2, 3, 4, 5))
        seen = set()
        for step in range(10):
            batch = sampler.batch(step=step, batch_size=50)
            for b in range(50):
                starts = _starts(batch.targets[:, b]) - {0}
                seen |= starts
                assert starts <= set(range(3, 7)), (backwards, starts)
        assert seen & set(range(3, 7)) == set(range(3, 7))  # every lead is drawn


def test_no_onset_windows_draws_the_windows_it_always_drew():
    """Pinned from the sampler as it was before onset windows existed: runs made then
    (every stage of the bundled model up to 5) still draw exactly their windows."""
    spec = WindowSpec(length=8, burn_in=2, max_shift=1, time_reverse=0.5,
                      augment=Augmentation.parse("dropout=0.2,stretch=0.2"))
    sampler = WindowSampler([_session()], spec, seed=3, reversed_class=(1, 0, 3, 2))
    batch = sampler.batch(step=7, batch_size=6)
    assert batch.targets.T.tolist() == [[3, 3, 3, -1, -1, 0, 0, 0], [2] * 8, [3] * 8,
                                        [-1, -1, 2, 2, 2, 2, 2, 2], [0, 0, 0, -1, -1, 1, 1, 1],
                                        [1, 1, -1, -1, 2, 2, 2, 2]]
    assert float(batch.frames.sum()) == 1962.0
    with pytest.raises(ValueError, match="fraction"):
        WindowSpec(length=8, onset_windows=1.5)
