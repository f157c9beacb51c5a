"""Binning on real recordings: conservation, streaming == offline, empty bins, drops,
time order, and the sensor → model mapping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from live_snn.binning import Binner, BinningConfig, bin_events
from live_snn.errors import BinningError, TimestampOrderError
from live_snn.events import EVENT_DTYPE, EventBatch, Resolution

SMALL_RECORDINGS = (
    "davis346_mixed_streams.aedat4",  # 346x260, crop + downscale
    "dvxplorer_person.aedat4",  # 320x240
    "dvsgesture_sample_01.aedat4",  # 128x128
    "dvs128_arms_b.aedat4",  # 128x128, sparse: many empty bins
)


def _read_aedat4(path: Path) -> EventBatch:
    dv = pytest.importorskip("dv_processing")
    reader = dv.io.MonoCameraRecording(str(path))
    resolution = Resolution.of(reader.getEventResolution())
    batches = []
    while (store := reader.getNextEventBatch()) is not None:
        batches.append(EventBatch.from_dv_numpy(store.numpy(), resolution))
    return EventBatch.concatenate(batches)


@pytest.fixture(scope="module")
def recordings(recordings_dir: Path) -> dict[str, EventBatch]:
    found = {}
    for name in SMALL_RECORDINGS:
        path = recordings_dir / name
        if not path.exists():
            pytest.skip(f"recording {path} not found")
        found[name] = _read_aedat4(path)
    return found


def _config(events: EventBatch, model: int = 64, dt_us: int = 10_000, **kw) -> BinningConfig:
    return BinningConfig(dt_us, events.resolution, Resolution(model, model), **kw)


def _reference_frames(events: EventBatch, config: BinningConfig, t0: int, n_bins: int):
    """Plain, slow-but-obvious binning to check the fast one against."""
    m = config.mapping()
    x, y = events.x.astype(np.int64), events.y.astype(np.int64)
    inside = (x >= m.x0) & (x < m.x0 + m.width) & (y >= m.y0) & (y < m.y0 + m.height)
    k = (events.t[inside] - t0) // config.dt_us
    frames = np.zeros((n_bins, 2, config.model.height, config.model.width), np.float32)
    np.add.at(
        frames,
        (
            k,
            events.p[inside].astype(np.int64),
            (y[inside] - m.y0) // m.factor,
            (x[inside] - m.x0) // m.factor,
        ),
        1,
    )
    return frames, int(inside.sum())


def _stream(binner: Binner, events: EventBatch, cuts) -> list:
    frames, start = [], 0
    for stop in [*cuts, len(events)]:
        frames += binner.push(EventBatch(events.events[start:stop], events.resolution))
        start = stop
    return frames + binner.flush()


def _with_extra(events: EventBatch, extra: np.ndarray, at: np.ndarray) -> EventBatch:
    """Insert ``extra`` events before the indices ``at`` (timestamps taken from there)."""
    extra = extra.copy()
    extra["t"] = events.t[at]
    return EventBatch(np.insert(events.events, at, extra), events.resolution)


@pytest.mark.parametrize("name", SMALL_RECORDINGS)
@pytest.mark.parametrize("model", [128, 64])
def test_offline_binning_conserves_events_and_matches_reference(recordings, name, model):
    events = recordings[name]
    config = _config(events, model)
    rec = bin_events(events, config)

    duration = events.t_last - events.t_first + 1
    assert len(rec) == -(-duration // config.dt_us)
    expected, inside = _reference_frames(events, config, events.t_first, len(rec))
    np.testing.assert_array_equal(rec.frames, expected)
    assert rec.frames.dtype == np.float32
    assert rec.frames.shape[1:] == (2, model, model)
    assert rec.frames.sum() == inside == rec.stats.events_binned == rec.n_events.sum()
    assert rec.stats.events_in == len(events)
    assert rec.stats.dropped_outside_crop == len(events) - inside
    assert rec.stats.events_binned + rec.stats.dropped == rec.stats.events_in
    np.testing.assert_array_equal(rec.t_start, events.t_first + config.dt_us * np.arange(len(rec)))


@pytest.mark.parametrize("name", SMALL_RECORDINGS)
def test_streaming_in_random_batches_equals_offline(recordings, name):
    events = recordings[name]
    config = _config(events, 64, dt_us=5_000)
    rec = bin_events(events, config)
    rng = np.random.default_rng(7)
    # Cuts of every size: empty batches, single events, and batches spanning many bins.
    cuts = np.sort(np.concatenate([rng.integers(0, len(events), 60), [0, 0, 1, 2, 2]]))
    binner = Binner(config)
    frames = _stream(binner, events, cuts)

    assert [f.index for f in frames] == list(range(len(rec)))
    np.testing.assert_array_equal(np.stack([f.counts for f in frames]), rec.frames)
    assert [f.n_events for f in frames] == rec.n_events.tolist()
    assert [f.t_start for f in frames] == rec.t_start.tolist()
    assert all(f.t_end - f.t_start == config.dt_us for f in frames)
    assert all(f.sensor_counts is None for f in frames)
    assert binner.stats == rec.stats


@pytest.mark.parametrize("block_bytes", [1, 1 << 18])
def test_streaming_frames_are_right_whatever_the_block_size(recordings, monkeypatch, block_bytes):
    # The streaming binner carves frames out of shared blocks; with one-frame blocks (and
    # small ones) every push crosses a block boundary, however many bins it spans.
    import live_snn.binning.rows as rows

    monkeypatch.setattr(rows, "_BLOCK_BYTES", block_bytes)
    events = recordings["davis346_mixed_streams.aedat4"]  # crop + downscale: drops events
    config = _config(events, 64, dt_us=2_000)
    rec = bin_events(events, config)
    rng = np.random.default_rng(3)
    cuts = np.sort(rng.integers(0, len(events), 40))
    binner = Binner(config, keep_sensor_frames=True)
    frames = _stream(binner, events, cuts)

    np.testing.assert_array_equal(np.stack([f.counts for f in frames]), rec.frames)
    assert [f.n_events for f in frames] == rec.n_events.tolist()
    assert binner.stats == rec.stats and rec.stats.dropped_outside_crop > 0
    assert all(not f.counts.flags.writeable for f in frames if f.n_events == 0)
    assert sum(int(f.sensor_counts.sum()) for f in frames) == len(events)


@pytest.mark.parametrize("name", ["davis346_mixed_streams.aedat4", "dvxplorer_person.aedat4"])
def test_sensor_frames_count_every_event_at_sensor_resolution(recordings, name):
    events = recordings[name]
    config = _config(events, 64, dt_us=50_000)
    binner = Binner(config, keep_sensor_frames=True)
    frames = _stream(binner, events, np.linspace(0, len(events), 9, dtype=int)[1:-1])
    sensor = np.stack([f.sensor_counts for f in frames])
    assert sensor.dtype == np.uint16
    assert sensor.shape == (len(frames), 2, events.resolution.height, events.resolution.width)
    np.testing.assert_array_equal(
        np.stack([f.counts for f in frames]), bin_events(events, config).frames
    )
    # Compare sparsely: (bin, p, y, x) of every event vs the non-zero sensor pixels.
    k = (events.t - events.t_first) // config.dt_us
    flat = np.ravel_multi_index((k, events.p.astype(np.int64), events.y, events.x), sensor.shape)
    where, counts = np.unique(flat, return_counts=True)
    np.testing.assert_array_equal(np.flatnonzero(sensor), where)
    np.testing.assert_array_equal(sensor.reshape(-1)[where], counts)


def test_silent_stretch_gives_empty_bins(recordings):
    events = recordings["dvsgesture_sample_01.aedat4"]
    config = _config(events, 128)
    t0 = events.t_first
    gap_start, gap_end = t0 + 300_000, t0 + 700_000  # cut 0.4 s of events out
    silent = EventBatch(
        events.events[(events.t < gap_start) | (events.t >= gap_end)], events.resolution
    )
    rec = bin_events(silent, config)
    assert len(rec) == len(bin_events(events, config))  # time keeps running through the gap
    in_gap = (rec.t_start >= gap_start) & (rec.t_start + config.dt_us <= gap_end)
    assert in_gap.sum() == 40
    assert not rec.frames[in_gap].any() and not rec.n_events[in_gap].any()

    # Live: the clock advancing through the silence emits the empty bins as it goes.
    binner = Binner(config)
    before = silent.slice_time(None, gap_start)
    frames = binner.push(before)
    advanced = binner.advance_to(gap_start + 150_000)
    assert [f.index for f in advanced] == list(range(len(frames), 45))
    assert all(f.n_events == 0 for f in advanced[1:]) and not advanced[-1].counts.any()
    frames += advanced + binner.push(silent.slice_time(gap_start, None)) + binner.flush()
    np.testing.assert_array_equal(np.stack([f.counts for f in frames]), rec.frames)


def test_empty_frames_are_shared_and_read_only(recordings):
    events = recordings["dvs128_arms_b.aedat4"]
    config = _config(events, 64, dt_us=1_000)  # ~3 events per bin: many bins stay empty
    frames = _stream(Binner(config), events, [])
    empty = [f for f in frames if f.n_events == 0]
    assert len(empty) > 10
    assert not empty[0].counts.flags.writeable
    with pytest.raises(ValueError):
        empty[0].counts[0, 0, 0] = 1.0


def test_out_of_range_coordinates_are_dropped_and_counted(recordings):
    events = recordings["davis346_mixed_streams.aedat4"]
    config = _config(events, 128)
    bad = np.zeros(5, EVENT_DTYPE)
    bad["x"] = [-1, 346, 10, 10, 30000]
    bad["y"] = [5, 5, 260, -300, 7]
    bad["p"] = [1, 0, 1, 0, 1]
    bad_polarity = np.zeros(1, EVENT_DTYPE)
    bad_polarity["x"], bad_polarity["y"], bad_polarity["p"] = 100, 100, 2
    extra = np.concatenate([bad, bad_polarity])
    noisy = _with_extra(events, extra, np.array([0, 10, 5000, 5001, 40_000, len(events) - 1]))

    clean = bin_events(events, config)
    rec = bin_events(noisy, config)
    np.testing.assert_array_equal(rec.frames, clean.frames)
    assert rec.stats.dropped_out_of_range == 6
    assert rec.stats.dropped_outside_crop == clean.stats.dropped_outside_crop > 0
    assert rec.stats.events_in == len(events) + 6

    binner = Binner(config, keep_sensor_frames=True)
    frames = _stream(binner, noisy, [3, 5001, 20_000])
    assert binner.stats.dropped_out_of_range == 6
    np.testing.assert_array_equal(np.stack([f.counts for f in frames]), clean.frames)
    assert sum(int(f.sensor_counts.sum()) for f in frames) == len(events)


def _reversed_copy(events: EventBatch, index: int, back_us: int) -> EventBatch:
    data = events.events.copy()
    data["t"][index] = data["t"][index - 1] - back_us
    return EventBatch(data, events.resolution)


def test_backwards_timestamp_raises_with_its_index(recordings):
    events = recordings["dvsgesture_sample_01.aedat4"]
    config = _config(events, 64)
    bad = _reversed_copy(events, 30_000, back_us=1)
    t_prev, t_bad = int(bad.t[29_999]), int(bad.t[30_000])

    with pytest.raises(TimestampOrderError) as err:
        bin_events(bad, config)
    assert err.value.index == 30_000
    assert "30000" in str(err.value) and str(t_bad) in str(err.value)
    assert str(t_prev) in str(err.value)

    # Streaming: the offender is the first event of a later batch, checked against the
    # last event of the previous batch; its global index is named.
    binner = Binner(config)
    binner.push(EventBatch(bad.events[:20_000], bad.resolution))
    before = binner.stats
    second = EventBatch(bad.events[20_000:30_000], bad.resolution)
    binner.push(second)
    with pytest.raises(TimestampOrderError) as err:
        binner.push(EventBatch(bad.events[30_000:], bad.resolution))
    assert err.value.index == 30_000 and str(t_prev) in str(err.value)
    # Nothing was consumed: the stream can go on from the refused batch's good part.
    assert binner.stats.events_in == before.events_in + len(second)
    binner.push(EventBatch(bad.events[30_001:], bad.resolution))
    assert binner.stats.events_in == len(events) - 1


def test_backwards_timestamps_tolerated_are_dropped_and_counted(recordings):
    events = recordings["dvsgesture_sample_01.aedat4"]
    config = _config(events, 64, tolerate_time_reversal=True)
    bad = _reversed_copy(_reversed_copy(events, 100, back_us=50), 20_000, back_us=3)
    expected = bin_events(
        EventBatch(np.delete(events.events, [100, 20_000]), events.resolution), config
    )
    rec = bin_events(bad, config)
    assert rec.stats.dropped_time_reversal == 2
    np.testing.assert_array_equal(rec.frames, expected.frames)

    binner = Binner(config)
    frames = _stream(binner, bad, [100, 20_000, 20_001])  # offenders at batch starts too
    assert binner.stats.dropped_time_reversal == 2
    np.testing.assert_array_equal(np.stack([f.counts for f in frames]), expected.frames)


def test_events_before_a_closed_bin_are_time_reversed(recordings):
    events = recordings["dvsgesture_sample_01.aedat4"]
    config = _config(events, 64)
    binner = Binner(config)
    binner.push(events.slice_time(None, events.t_first + 50_000))
    binner.advance_to(events.t_first + 100_000)
    late = events.slice_time(events.t_first + 60_000, events.t_first + 70_000)
    with pytest.raises(TimestampOrderError, match="open bin 10"):
        binner.push(late)


def test_t0_and_t_end_give_leading_and_trailing_empty_bins(recordings):
    events = recordings["dvsgesture_sample_01.aedat4"]
    config = _config(events, 64)
    t0, t_end = events.t_first - 25_000, events.t_last + 40_000
    rec = bin_events(events, config, t0_us=t0, t_end_us=t_end)
    assert len(rec) == -(-(t_end - t0) // config.dt_us)
    assert not rec.frames[:2].any() and rec.frames[2].any()
    assert not rec.frames[-3:].any()
    assert rec.frames.sum() == len(events)

    binner = Binner(config, t0_us=t0)
    frames = binner.push(events) + binner.advance_to(t_end) + binner.flush()
    np.testing.assert_array_equal(np.stack([f.counts for f in frames]), rec.frames)
    assert binner.flush() == []

    with pytest.raises(TimestampOrderError, match="t0_us"):
        bin_events(events, config, t0_us=events.t_first + 1)
    with pytest.raises(BinningError, match="slice_time"):
        bin_events(events, config, t_end_us=events.t_last)


def test_resolution_mismatch_is_refused(recordings):
    events = recordings["dvsgesture_sample_01.aedat4"]
    config = BinningConfig(10_000, Resolution(346, 260), Resolution(64, 64))
    with pytest.raises(BinningError, match="128x128.*346x260"):
        Binner(config).push(events)
