from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import numpy as np
import pytest
import torch

from live_snn.binning import BinningConfig, bin_events
from live_snn.engine.config import EngineConfig, EngineEvent
from live_snn.engine.engine import Engine
from live_snn.engine.predictor import Predictor, PredictorConfig
from live_snn.engine.records import Prediction
from live_snn.errors import CheckpointMismatchError, LiveSnnError, StreamDroppedError
from live_snn.events import EventBatch
from live_snn.sources.aedat4 import Aedat4Source
from live_snn.sources.base import EventSource
from live_snn.sources.memory import MemorySource

DT = 10_000
WAIT_S = 120


class Run:
    """An engine run on one source, collecting everything it reports."""

    def __init__(self, source, ckpt, config: EngineConfig):
        self.engine = Engine(config)
        self.engine.open(source)
        self.engine.load_model(ckpt)
        self.predictions: list[Prediction] = []
        self.events: list[EngineEvent] = []
        self.engine.subscribe(self.predictions.append)
        self.engine.subscribe_status(self.events.append)

    def finish(self, start: Callable[[Engine], None] | None = None):
        (start or (lambda e: e.start()))(self.engine)
        assert self.engine.wait(WAIT_S), "engine did not finish in time"
        self.stats = self.engine.stats()
        self.engine.close()
        return self

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


def offline_bins(events: EventBatch):
    return bin_events(events, BinningConfig(dt_us=DT, sensor=events.resolution, model=(32, 32)))


def cpu(**kw) -> EngineConfig:
    return EngineConfig(device="cpu", **kw)


def assert_same(a: list[Prediction], b: list[Prediction]) -> None:
    assert [p.bin for p in a] == [p.bin for p in b]
    for x, y in zip(a, b, strict=True):
        assert (x.t_start_us, x.t_end_us, x.events) == (y.t_start_us, y.t_end_us, y.events)
        np.testing.assert_array_equal(x.scores, y.scores, err_msg=f"bin {x.bin}")
        np.testing.assert_array_equal(x.smoothed, y.smoothed, err_msg=f"bin {x.bin}")
        assert (x.label, x.onset) == (y.label, y.onset)


def test_replay_yields_one_prediction_per_bin_equal_to_the_model(
    gesture_path, gesture_events, causal_ckpt, offline_scores
):
    run = Run(Aedat4Source(gesture_path), causal_ckpt, cpu())
    layers = run.engine.session_info().attention_channels
    spiking = run.engine.session_info().spiking_layers
    preds = run.finish().predictions
    duration = gesture_events.t_last - gesture_events.t_first + 1
    n_bins = math.ceil(duration / DT)
    assert len(preds) == n_bins == run.stats.bins
    assert [p.bin for p in preds] == list(range(n_bins))
    assert [p.t_start_us for p in preds] == [gesture_events.t_first + k * DT for k in range(n_bins)]

    binned = offline_bins(gesture_events)
    scores = offline_scores(causal_ckpt, binned.frames)
    got = np.stack([p.scores for p in preds])
    assert got.max() > 0 and len({p.label for p in preds}) > 1, "scores must not be trivial"
    np.testing.assert_array_equal(got, scores)
    assert [p.events for p in preds] == binned.n_events.tolist()
    np.testing.assert_array_equal(np.stack([p.frame for p in preds]), binned.frames)
    for p in preds:
        for probs in (p.probs, p.smoothed):
            assert np.all(np.isfinite(probs)) and probs.sum() == pytest.approx(1.0, abs=1e-5)
        assert p.confidence == pytest.approx(float(p.smoothed.max()))
        assert set(p.attention) == set(layers) and len(layers) == 2
        assert all(part.shape == (16,) for parts in p.attention.values() for part in parts.values())
        assert set(p.spike_rates) == set(spiking) and all(0 <= r <= 1 for r in p.spike_rates.values())
        assert set(p.latency_ms) == {"event_to_bin", "queue", "step", "bin_to_prediction"}
    s = run.stats
    assert s.state == "finished" and s.error is None
    assert s.events_in == len(gesture_events) and s.events_dropped_total == 0
    assert s.bins_skipped == 0 and s.realtime_factor > 0
    assert s.latency["step"].count == n_bins


def test_window_model_reruns_the_last_T_frames_per_bin(gesture_events, window_ckpt):
    source = MemorySource(gesture_events, description="gesture")
    preds = Run(source, window_ckpt, cpu(record_taps=False)).finish().predictions
    binned = offline_bins(gesture_events)
    T = 4
    padded = np.concatenate([np.zeros((T - 1, *binned.frames.shape[1:]), np.float32),
                             binned.frames])
    windows = np.stack([padded[k:k + T] for k in range(len(binned))], axis=1)  # [T, N, ...]
    from live_snn.model import load_checkpoint

    model = load_checkpoint(window_ckpt).model
    with torch.inference_mode():
        expected = model(torch.from_numpy(windows))[-1].numpy()  # newest step of each window
    got = np.stack([p.scores for p in preds])
    assert got.max() > 0
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("snapshot_every", [16, 1000])
def test_seek_then_play_equals_uninterrupted_playback(gesture_events, causal_ckpt, snapshot_every):
    config = cpu(snapshot_every=snapshot_every, record_taps=False, smoothing="mean")
    full = Run(MemorySource(gesture_events, description="g"), causal_ckpt, config).finish()
    target_bin = 57
    t = gesture_events.t_first + target_bin * DT + 1234  # inside bin 57

    def seek_before_playing(engine: Engine) -> None:
        engine.start(paused=True)
        engine.seek(t)
        engine.resume()

    part = Run(MemorySource(gesture_events, description="g"), causal_ckpt, config)
    part.finish(seek_before_playing)
    assert part.predictions[0].bin == target_bin
    assert_same(full.predictions[target_bin:], part.predictions)
    assert "seeked" in part.kinds()


def test_seek_backwards_while_running(gesture_events, causal_ckpt):
    config = cpu(snapshot_every=16, record_taps=False)
    full = Run(MemorySource(gesture_events, description="g"), causal_ckpt, config).finish()
    run = Run(MemorySource(gesture_events, description="g"), causal_ckpt, config)
    t = gesture_events.t_first + 40 * DT

    def seek_once_at_bin_100(p: Prediction) -> None:
        if p.bin == 100 and not any(e.kind == "seeked" for e in run.events):
            run.engine.seek(t)

    run.engine.subscribe(seek_once_at_bin_100)
    run.finish()
    bins = [p.bin for p in run.predictions]
    back = next(i for i in range(1, len(bins)) if bins[i] < bins[i - 1])
    assert bins[back] == 40
    assert_same(full.predictions[40:], run.predictions[back:])


def test_pause_single_step_and_resume(gesture_events, causal_ckpt):
    run = Run(MemorySource(gesture_events, description="g"), causal_ckpt, cpu())
    engine = run.engine
    engine.start(paused=True)
    for _ in range(3):
        engine.step_once()
    deadline = time.monotonic() + WAIT_S
    while len(run.predictions) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # a fourth bin would have come by now if pausing did not hold
    assert [p.bin for p in run.predictions] == [0, 1, 2]
    assert engine.state == "paused"
    engine.resume()
    run.finish(lambda e: None)
    assert [p.bin for p in run.predictions] == list(range(len(run.predictions)))
    assert run.stats.state == "finished"


def test_paced_replay_follows_the_timestamps(gesture_events, causal_ckpt):
    speed = 4.0
    duration_s = (gesture_events.t_last - gesture_events.t_first) / 1e6
    start = time.monotonic()
    run = Run(MemorySource(gesture_events, description="g"), causal_ckpt,
              cpu(speed=speed, record_taps=False)).finish()
    # Pacing holds bins back until their time: the replay cannot be faster than asked.
    assert time.monotonic() - start >= duration_s / speed * 0.95
    assert run.stats.bins_skipped == 0


def spliced_with_gap(events: EventBatch, gap_us: int) -> tuple[EventBatch, int]:
    """The recording, then silence, then the recording again (real events both times)."""
    second = events.events.copy()
    second["t"] += events.t_last + gap_us - events.t_first
    return EventBatch(np.concatenate([events.events, second]), events.resolution), int(second["t"][0])


def test_reset_on_silence(gesture_events, causal_ckpt, offline_scores):
    events, resume_t = spliced_with_gap(gesture_events, gap_us=300_000)
    silence_ms = 100.0
    run = Run(MemorySource(events, description="gap"), causal_ckpt,
              cpu(reset_on_silence_ms=silence_ms, record_taps=False)).finish()
    resets = [e for e in run.events if e.kind == "reset"]
    assert len(resets) == 1 and run.stats.resets == 1
    binned = offline_bins(events)
    empty = binned.n_events == 0
    last_busy = int(np.flatnonzero(~empty[: (resume_t - events.t_first) // DT])[-1])
    reset_bin = last_busy + int(silence_ms * 1000 // DT)  # the 10th empty bin in a row
    assert resets[0].bin == reset_bin
    # From the reset on, the engine equals a model and a predictor started fresh at that bin.
    fresh = offline_scores(causal_ckpt, binned.frames[reset_bin:])
    after = run.predictions[reset_bin:]
    np.testing.assert_array_equal(np.stack([p.scores for p in after]), fresh)
    predictor = Predictor(EngineConfig().predictor_config(PredictorConfig(logit_scale=10.0)), 11)
    fresh_smoothed = np.stack([predictor.update(s).smoothed for s in fresh])
    np.testing.assert_allclose(np.stack([p.smoothed for p in after]), fresh_smoothed, atol=1e-6)
    # Without the reset the smoothing would still remember the first gesture at that bin.
    no_reset = Predictor(EngineConfig().predictor_config(PredictorConfig(logit_scale=10.0)), 11)
    for scores in offline_scores(causal_ckpt, binned.frames[: reset_bin + 1]):
        remembered = no_reset.update(scores).smoothed
    assert not np.allclose(remembered, after[0].smoothed, atol=1e-3)


class LivePaced(EventSource):
    """A real recording delivered in real time as a live source (like a camera): batches
    of 1 ms, each released when its time has come; optionally the stream breaks."""

    is_live = True

    def __init__(self, events: EventBatch, *, drop_after_us: int | None = None,
                 still_after_s: float = 0.0):
        self.events = events
        self.resolution = events.resolution
        self.description = "live replay"
        self.drop_after_us = drop_after_us
        self.still_after_s = still_after_s  # then a still scene: no events, stream open
        self.closed = False

    def __iter__(self):
        t = self.events.t
        t0, wall0 = int(t[0]), time.monotonic()
        edges = np.arange(t0, int(t[-1]) + 1001, 1000)
        bounds = np.searchsorted(t, edges)
        for lo, hi, edge in zip(bounds[:-1], bounds[1:], edges[1:], strict=True):
            if self.closed:
                return
            if self.drop_after_us is not None and edge - t0 > self.drop_after_us:
                raise StreamDroppedError("camera disconnected (unplugged?)")
            delay = wall0 + (edge - t0) / 1e6 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            yield EventBatch(self.events.events[lo:hi], self.resolution)
        still_until = time.monotonic() + self.still_after_s
        while time.monotonic() < still_until and not self.closed:
            time.sleep(0.01)
            yield EventBatch.empty(self.resolution)  # a camera's "nothing happened"

    def close(self) -> None:
        self.closed = True


def slow_steps(monkeypatch, seconds: float) -> None:
    from live_snn.engine.runner import ModelRunner

    original = ModelRunner.step

    def slow(self, counts, *, taps=True):
        time.sleep(seconds)
        return original(self, counts, taps=taps)

    monkeypatch.setattr(ModelRunner, "step", slow)


def test_backpressure_skips_oldest_bins_and_counts_them(gesture_events, causal_ckpt, monkeypatch):
    slow_steps(monkeypatch, 0.03)  # 3× slower than the 10 ms bins arrive
    max_pending = 3
    run = Run(LivePaced(gesture_events), causal_ckpt,
              cpu(record_taps=False, max_pending_bins=max_pending))
    pending_seen = []
    run.engine.subscribe(lambda p: pending_seen.append(run.engine.stats().pending_bins))
    run.finish()
    preds, s = run.predictions, run.stats
    n_bins = math.ceil((gesture_events.t_last - gesture_events.t_first + 1) / DT)
    assert s.bins_skipped > n_bins // 3, "a 3x slow model must have skipped bins"
    assert s.bins + s.bins_skipped == n_bins
    assert sum(p.skipped_before for p in preds) == s.bins_skipped
    processed = [p.bin for p in preds]
    assert processed == sorted(set(processed))  # in order, none twice
    # each skipped bin is reported before the bin that follows it
    expected_gaps = np.diff([-1] + processed) - 1
    assert [p.skipped_before for p in preds] == expected_gaps.tolist()
    assert max(pending_seen) <= max_pending
    assert s.events_in == len(gesture_events)
    assert s.events_dropped["skipped_bins"] == len(gesture_events) - sum(p.events for p in preds)


class Flood(EventSource):
    """A live source that delivers a real recording in 1 ms batches as fast as it can, far
    faster than real time, as a network stream of a file can."""

    is_live = True

    def __init__(self, events: EventBatch):
        self.events = events
        self.resolution = events.resolution
        self.description = "flood"

    def __iter__(self):
        t = self.events.t
        bounds = np.searchsorted(t, np.arange(int(t[0]), int(t[-1]) + 1001, 1000))
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            yield EventBatch(self.events.events[lo:hi], self.resolution)

    def close(self) -> None:
        pass


def test_events_dropped_before_binning_are_counted_as_delivered(gesture_events, causal_ckpt,
                                                               monkeypatch):
    slow_steps(monkeypatch, 0.02)
    run = Run(Flood(gesture_events), causal_ckpt,
              cpu(record_taps=False, live_queue_batches=4, live_silence_margin_ms=None)).finish()
    s = run.stats
    assert s.events_dropped.get("ingest_overflow", 0) > 0, "the reader's queue must overflow"
    assert s.events_in == len(gesture_events)
    # every delivered event is either in a predicted bin or dropped for a stated reason
    assert sum(p.events for p in run.predictions) + s.events_dropped_total == s.events_in


def test_backpressure_process_all_reports_growing_lag(gesture_events, causal_ckpt, monkeypatch):
    slow_steps(monkeypatch, 0.015)
    run = Run(LivePaced(gesture_events), causal_ckpt,
              cpu(record_taps=False, backpressure="process-all", max_pending_bins=3))
    lags = []
    run.engine.subscribe(lambda p: lags.append(run.engine.stats().lag_ms))
    run.finish()
    n_bins = math.ceil((gesture_events.t_last - gesture_events.t_first + 1) / DT)
    assert run.stats.bins == n_bins and run.stats.bins_skipped == 0
    assert [p.bin for p in run.predictions] == list(range(n_bins))
    assert max(lags[len(lags) // 2:]) > max(lags[:10]) + 100  # ms: the lag grows


def test_live_source_dropping_ends_cleanly_with_everything_flushed(gesture_events, causal_ckpt):
    drop_after = 500_000
    run = Run(LivePaced(gesture_events, drop_after_us=drop_after), causal_ckpt,
              cpu(record_taps=False, backpressure="process-all")).finish()
    s = run.stats
    assert s.state == "finished"
    assert "camera disconnected" in s.error
    assert isinstance(run.engine.error, StreamDroppedError)
    assert "stream_dropped" in run.kinds()
    delivered = gesture_events.slice_time(None, gesture_events.t_first + drop_after)
    assert s.events_in == len(delivered)
    # every delivered event is in a predicted bin, the last (open) bin included
    assert sum(p.events for p in run.predictions) == len(delivered)


@pytest.mark.parametrize("reason", [None, "the window closed"])
def test_stop_while_running_live_says_why(gesture_events, causal_ckpt, reason):
    run = Run(LivePaced(gesture_events), causal_ckpt, cpu(record_taps=False))
    run.engine.start()
    time.sleep(0.3)
    run.engine.stop() if reason is None else run.engine.stop(reason=reason)
    assert run.engine.wait(5)
    assert run.engine.state == "stopped"
    stopped = [e.message for e in run.events if e.kind == "stopped"]
    assert stopped == [reason or "stopped by request"]


def test_clear_errors(gesture_events, causal_ckpt, tmp_path, make_checkpoint):
    engine = Engine(cpu())
    with pytest.raises(LiveSnnError, match="needs a source and a model"):
        engine.start()
    live = Engine(cpu())
    live.open(LivePaced(gesture_events))
    live.load_model(causal_ckpt)
    with pytest.raises(LiveSnnError, match="cannot seek live replay: it is a live source"):
        live.seek(0)
    live.close()
    # a model trained on another sensor is refused, naming both mappings...
    ckpt = make_checkpoint(tmp_path / "davis.safetensors", sensor=(346, 260))
    engine = Engine(cpu())
    engine.open(MemorySource(gesture_events, description="g"))
    with pytest.raises(CheckpointMismatchError, match=r"trained on 346x260 sensor → centre crop "
                       r"256x256 .*; this 128x128 source would be mapped as 128x128 sensor → "
                       r"full sensor → ÷4 .* pass --allow-remap"):
        engine.load_model(ckpt)
    engine.close()
    # ...runs where its input can be mapped (128x128 -> ÷4) when the user allows it...
    engine = Engine(dataclasses.replace(cpu(), allow_remap=True))
    engine.open(MemorySource(gesture_events, description="g"))
    engine.load_model(ckpt)
    assert engine.session_info().mapping.factor == 4
    engine.close()
    # ...and is refused, naming both sizes, where it cannot (a sensor smaller than 32x32)
    corner = gesture_events.events[(gesture_events.x < 20) & (gesture_events.y < 20)]
    small = MemorySource(EventBatch(corner, (20, 20)), description="20x20 corner")
    engine = Engine(dataclasses.replace(cpu(), allow_remap=True))
    engine.open(small)
    with pytest.raises(CheckpointMismatchError, match="32x32 frames .* 20x20 sensor"):
        engine.load_model(causal_ckpt)
    engine.close()
    with pytest.raises(ValueError, match="backpressure"):
        EngineConfig(backpressure="drop-all")
    if not torch.cuda.is_available():
        with pytest.raises(LiveSnnError, match="'cuda' asked for but CUDA is not available"):
            Engine(EngineConfig(device="cuda"))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_engine_equals_the_model_stepped_on_the_gpu(gesture_events, causal_ckpt):
    from live_snn.model import load_checkpoint

    run = Run(MemorySource(gesture_events, description="g"), causal_ckpt,
              EngineConfig(device="cuda")).finish()
    assert run.engine.session_info().device.startswith("cuda")
    model = load_checkpoint(causal_ckpt, device="cuda").model
    frames = torch.from_numpy(offline_bins(gesture_events).frames).cuda()
    state, expected = model.init_state(1), []
    with torch.inference_mode():
        for frame in frames:
            scores, state, _ = model.step(frame[None], state)
            expected.append(scores[0].cpu().numpy())
    np.testing.assert_allclose(np.stack([p.scores for p in run.predictions]), np.stack(expected),
                               atol=1e-6)


def test_switching_model_mid_replay_restarts_the_recording(gesture_events, causal_ckpt,
                                                           tmp_path, make_checkpoint):
    other = make_checkpoint(tmp_path / "other.safetensors", seed=7)
    config = cpu(record_taps=False)
    expected = Run(MemorySource(gesture_events, description="g"), other, config).finish()
    run = Run(MemorySource(gesture_events, description="g"), causal_ckpt, config)
    run.engine.start(paused=True)
    for _ in range(5):
        run.engine.step_once()
    deadline = time.monotonic() + WAIT_S
    while len(run.predictions) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    run.engine.load_model(other)  # applied on the engine thread, between bins
    assert "model_changed" in run.kinds()
    switched = len(run.predictions)
    run.engine.resume()
    run.finish(lambda e: None)
    assert_same(expected.predictions, run.predictions[switched:])


def test_the_models_own_uncertain_threshold_applies_unless_one_is_asked_for(
        gesture_events, causal_ckpt, with_readout):
    plain = Run(MemorySource(gesture_events, description="g"), causal_ckpt,
                cpu(record_taps=False)).finish().predictions
    assert not any(p.uncertain for p in plain)  # a model without one: never uncertain
    threshold = float(np.median([p.confidence for p in plain]))
    own = with_readout(causal_ckpt, uncertain_below=threshold)

    run = Run(MemorySource(gesture_events, description="g"), own, cpu(record_taps=False))
    assert run.engine.session_info().uncertain_below == threshold
    shown = run.finish().predictions
    assert [p.uncertain for p in shown] == [p.confidence < threshold for p in plain]
    assert 0 < sum(p.uncertain for p in shown) < len(shown)
    assert [p.label for p in shown] == [p.label for p in plain]  # it hides, never changes

    asked = Run(MemorySource(gesture_events, description="g"), own,
                cpu(record_taps=False, uncertain_below=0.0))
    assert asked.engine.session_info().uncertain_below == 0.0
    assert not any(p.uncertain for p in asked.finish().predictions)


def test_the_predictor_smooths_as_the_model_says_unless_told_otherwise(gesture_events,
                                                                      causal_ckpt, with_readout):
    from live_snn.model import load_checkpoint

    ckpt = load_checkpoint(causal_ckpt)
    own = with_readout(causal_ckpt, predictor={"smoothing": "ema", "ema_tau_steps": 1.5})

    def smoothed_by(config, tau):
        run = Run(MemorySource(gesture_events, description="g"), own, config)
        shown = run.finish().predictions
        assert run.engine.session_info().predictor.ema_tau_steps == tau
        replay = Predictor(PredictorConfig(ema_tau_steps=tau, logit_scale=ckpt.logit_scale),
                           len(ckpt.class_names))
        expected = np.stack([replay.update(p.scores).smoothed for p in shown])
        np.testing.assert_allclose(np.stack([p.smoothed for p in shown]), expected, atol=1e-6)
        return expected

    own_tau = smoothed_by(cpu(record_taps=False), 1.5)
    asked = smoothed_by(cpu(record_taps=False, ema_tau_steps=8.0), 8.0)
    assert not np.allclose(own_tau, asked, atol=1e-3)


def test_a_threshold_fitted_under_another_smoothing_still_applies_and_the_session_says_so(
        gesture_events, causal_ckpt, with_readout):
    from live_snn.model import load_checkpoint

    fitted = {"smoothing": "ema", "ema_tau_steps": 5.0, "mean_window": 10}
    own = with_readout(causal_ckpt, uncertain_below=0.5,
                       uncertain_calibration={"rule": "r", **fitted})
    assert load_checkpoint(own).uncertain_fitted_under == fitted

    def info(config):
        run = Run(MemorySource(gesture_events, description="g"), own, config)
        run.finish()
        return run.engine.session_info()

    assert info(cpu(record_taps=False)).uncertain_note == ""
    slower = info(cpu(record_taps=False, ema_tau_steps=10.0))
    assert slower.uncertain_below == 0.5
    assert "EMA τ=5 steps" in slower.uncertain_note and "EMA τ=10 steps" in slower.uncertain_note


def test_set_speed_applies_from_the_next_bin(gesture_events, causal_ckpt):
    run = Run(MemorySource(gesture_events, description="g"), causal_ckpt,
              cpu(speed=0.05, record_taps=False))  # 20x slower than real time
    run.engine.start()
    deadline = time.monotonic() + WAIT_S
    while not run.predictions and time.monotonic() < deadline:
        time.sleep(0.01)
    run.engine.set_speed(None)  # as fast as possible: done long before 29 s of slow replay
    run.finish(lambda e: None)
    assert run.stats.bins == len(run.predictions) > 100
    assert run.engine.config.speed is None
    with pytest.raises(ValueError, match="speed"):
        run.engine.set_speed(-1.0)


def test_live_bins_advance_through_a_still_scene(gesture_events, causal_ckpt):
    still_s = 0.6
    run = Run(LivePaced(gesture_events, still_after_s=still_s), causal_ckpt,
              cpu(record_taps=False, backpressure="process-all"))
    run.finish()
    last_event = gesture_events.t_last
    after = [p for p in run.predictions if p.t_start_us > last_event]
    # bins kept closing on the source clock while nothing arrived (50 ms margin behind it)
    assert len(after) >= int((still_s - 0.2) * 1e6 / DT)
    assert all(p.events == 0 for p in after)
    assert [p.bin for p in run.predictions] == list(range(len(run.predictions)))
    assert sum(p.events for p in run.predictions) == len(gesture_events)
