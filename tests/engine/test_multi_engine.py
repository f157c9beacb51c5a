"""The multi-stream engine: several streams through one model, each stream's predictions equal
to what it gets alone (same bins, max |difference| <= 1e-5) when streams start late, pause,
drop and reconnect, are reset, end early or break; backpressure counted per stream."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from live_snn.bench.live_cameras import CameraReplay
from live_snn.engine.config import EngineConfig
from live_snn.engine.engine import Engine
from live_snn.engine.multi_engine import MultiStreamEngine, stream_name
from live_snn.errors import CorruptFileError, LiveSnnError, StreamDroppedError
from live_snn.events import EventBatch
from live_snn.model import load_checkpoint
from live_snn.sources.base import EventSource
from live_snn.sources.memory import MemorySource

DT = 10_000
WAIT_S = 120
TOLERANCE = 1e-5


class Scripted(EventSource):
    """A live source playing a script as fast as it is read, then ending (the camera is
    switched off): ``("events", batch)`` in 5 ms slices, ``("idle", s)`` empty batches for
    s seconds of wall time (a still camera, or one not started yet), ``("drop", why)`` the
    connection breaking, ``("crash", why)`` a bug."""

    is_live = True

    def __init__(self, script: list[tuple[str, object]], description: str):
        self.script = script
        self.resolution = next(b for k, b in script if k == "events").resolution
        self.description = description
        self.closed = False

    def __iter__(self):
        for kind, arg in self.script:
            if kind == "events":
                t = arg.t
                edges = np.arange(int(t[0]), int(t[-1]) + 5001, 5000)
                bounds = np.searchsorted(t, edges)
                for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
                    if self.closed:
                        return
                    yield EventBatch(arg.events[lo:hi], self.resolution)
            elif kind == "idle":
                until = time.monotonic() + arg
                while time.monotonic() < until and not self.closed:
                    time.sleep(0.01)
                    yield EventBatch.empty(self.resolution)
            elif kind == "drop":
                raise StreamDroppedError(arg)
            elif kind == "crash":
                raise RuntimeError(arg)

    def close(self) -> None:
        self.closed = True


def shifted(events: EventBatch, by_us: int) -> EventBatch:
    out = events.events.copy()
    out["t"] += by_us
    return EventBatch(out, events.resolution)


def live_config(**kw) -> EngineConfig:
    # Bins close on events only (not on the wall clock), so that they are the same whenever
    # the engine reads them; every bin is stepped.
    return EngineConfig(device="cpu", record_taps=False, backpressure="process-all",
                        live_silence_margin_ms=None, reconnect_delay_s=0.05, **kw)


class MultiRun:
    """A multi-stream run that logs, per stream and in the engine thread's order, every
    prediction and status event."""

    def __init__(self, ckpt, config: EngineConfig):
        self.engine = MultiStreamEngine(config)
        self.engine.load_model(ckpt)
        self.log: dict[str, list] = {}
        self.engine.subscribe(lambda name, p: self.log.setdefault(name, []).append(p))
        self.engine.subscribe_status(lambda name, e: self.log.setdefault(name, []).append(e))

    def add(self, source, **kw) -> str:
        return self.engine.add(source, **kw)

    def finish(self):
        self.engine.start()
        assert self.engine.wait(WAIT_S), "the engine did not finish in time"
        self.stats = self.engine.stats()
        self.engine.close()
        return self

    def predictions(self, name: str):
        return [p for p in self.log.get(name, []) if hasattr(p, "scores")]

    def kinds(self, name: str) -> list[str]:
        return [e.kind for e in self.log.get(name, []) if not hasattr(e, "scores")]


def run_alone(source, ckpt, config: EngineConfig):
    engine = Engine(config)
    engine.open(source)
    engine.load_model(ckpt)
    predictions = []
    engine.subscribe(predictions.append)
    engine.start()
    assert engine.wait(WAIT_S)
    engine.close()
    return predictions


def assert_same_bins_and_scores(batched, alone, name: str) -> None:
    assert [p.bin for p in batched] == [p.bin for p in alone], name
    assert [(p.t_start_us, p.events) for p in batched] == [(p.t_start_us, p.events) for p in alone]
    diff = np.abs(np.stack([p.scores for p in batched]) - np.stack([p.scores for p in alone]))
    assert diff.max() <= TOLERANCE, f"{name}: batched differs from alone by {diff.max()}"
    assert [p.label for p in batched] == [p.label for p in alone]


def stepped_alone(ckpt, log) -> np.ndarray:
    """The model stepped alone (batch 1) on the frames a stream's predictions carry, its state
    reset where the stream reported a reset: what the stream gets when no other is batched."""
    model = load_checkpoint(ckpt).model
    state, scores = model.init_state(1), []
    with torch.inference_mode():
        for item in log:
            if not hasattr(item, "scores"):
                if item.kind == "reset":
                    state = model.init_state(1)
                continue
            out, state, _ = model.step(torch.from_numpy(np.array(item.frame))[None], state)
            scores.append(out[0].numpy())
    return np.stack(scores)


def test_recordings_batched_equal_each_alone_and_a_damaged_one_ends_only_itself(
        gesture_events, causal_ckpt):
    parts = [gesture_events, shifted(gesture_events.slice_time(None, gesture_events.t_first
                                                                + 900_000), 3_000_000),
             gesture_events.slice_time(gesture_events.t_first + 400_000, None)]
    damage = CorruptFileError("damaged at byte 1234", path="c.aedat4", events_read=1)
    config = EngineConfig(device="cpu", speed=None, record_taps=True)

    def sources():
        return [MemorySource(parts[0], description="a"), MemorySource(parts[1], description="b"),
                MemorySource(parts[2], description="c", damage=damage)]

    run = MultiRun(causal_ckpt, config)
    names = [run.add(s, name=n) for s, n in zip(sources(), "abc", strict=True)]
    run.finish()
    for name, source in zip(names, sources(), strict=True):
        alone = run_alone(source, causal_ckpt, config)
        batched = run.predictions(name)
        assert_same_bins_and_scores(batched, alone, name)
        gates = [(p.attention["blocks.1.tcja"]["gate"], q.attention["blocks.1.tcja"]["gate"])
                 for p, q in zip(batched, alone, strict=True)]
        assert max(np.abs(g - h).max() for g, h in gates) <= TOLERANCE
    s = run.stats
    assert s.streams["a"].state == s.streams["b"].state == s.streams["c"].state == "finished"
    assert s.streams["a"].error is None and s.streams["b"].error is None
    assert "damaged at byte 1234" in s.streams["c"].error
    assert s.max_batch == 3 and s.bins_stepped == sum(st.bins for st in s.streams.values())
    assert s.totals()["events_in"] == sum(len(p) for p in parts)


def test_live_streams_starting_late_pausing_and_reconnecting_equal_each_alone(
        gesture_events, causal_ckpt):
    ev = gesture_events
    t0 = ev.t_first
    first, second = ev.slice_time(None, t0 + 600_000), ev.slice_time(t0 + 600_000, None)
    scripts = {
        "steady": [("events", ev)],
        "late": [("idle", 0.3), ("events", shifted(ev, 2_000_000))],
        "paused": [("events", first), ("idle", 0.3), ("events", shifted(second, 300_000))],
    }
    after_drop = shifted(second, 7_000_000)  # the camera's clock restarted elsewhere
    reopened = []

    def reopen():  # back once; when that stream ends too, the camera is gone for good
        if reopened:
            raise StreamDroppedError("no camera there")
        reopened.append(Scripted([("events", after_drop)], "dropping, again"))
        return reopened[-1]

    run = MultiRun(causal_ckpt, live_config())
    for name, script in scripts.items():
        run.add(Scripted(script, name), name=name)
    run.add(Scripted([("events", first), ("drop", "cable pulled")], "dropping"),
            name="dropping", reopen=reopen)
    run.finish()

    for name, script in scripts.items():
        alone = run_alone(Scripted(script, name), causal_ckpt, live_config())
        assert_same_bins_and_scores(run.predictions(name), alone, name)
    dropping = run.predictions("dropping")
    assert "reconnected" in run.kinds("dropping") and len(reopened) == 1
    got = np.stack([p.scores for p in dropping])
    assert np.abs(got - stepped_alone(causal_ckpt, run.log["dropping"])).max() <= TOLERANCE
    assert sum(p.events for p in dropping) == len(first) + len(after_drop)
    bins = [p.bin for p in dropping]
    assert bins == sorted(set(bins))
    s = run.stats
    assert s.streams["dropping"].reconnects == 1 and s.streams["steady"].reconnects == 0
    assert all(st.events_in == sum(p.events for p in run.predictions(n))
               for n, st in s.streams.items())
    assert 1 < s.mean_batch <= 4 and s.max_batch >= 3
    everything = np.concatenate([np.stack([p.scores for p in run.predictions(n)])
                                 for n in s.streams])
    assert everything.max() > 0 and len(np.unique(everything.argmax(1))) > 1, "trivial scores"


def test_a_reset_or_a_broken_stream_touches_only_its_own_row(gesture_events, causal_ckpt):
    ev = gesture_events
    run = MultiRun(causal_ckpt, live_config())
    run.add(Scripted([("events", ev)], "a"), name="a")
    run.add(Scripted([("events", ev), ("idle", 0.2)], "b"), name="b")
    run.add(Scripted([("events", ev.slice_time(None, ev.t_first + 300_000)),
                      ("crash", "decoder bug")], "c"), name="c")
    run.engine.subscribe(lambda name, p: name == "b" and p.bin == 40 and run.engine.reset("b"))
    run.finish()
    alone = run_alone(Scripted([("events", ev)], "a"), causal_ckpt, live_config())
    assert_same_bins_and_scores(run.predictions("a"), alone, "a")
    assert "reset" in run.kinds("b") and "reset" not in run.kinds("a")
    b = np.stack([p.scores for p in run.predictions("b")])
    assert np.abs(b - stepped_alone(causal_ckpt, run.log["b"])).max() <= TOLERANCE
    assert not np.array_equal(b, np.stack([p.scores for p in alone]))  # the reset mattered
    s = run.stats
    assert s.streams["c"].state == "failed" and "RuntimeError: decoder bug" in s.streams["c"].error
    assert s.streams["a"].state == s.streams["b"].state == "finished"
    assert s.state == "finished" and s.streams["b"].resets == 1
    assert run.engine.history("c")[-1].kind == "failed"


def test_a_stop_tells_every_running_stream_why(gesture_events, causal_ckpt):
    run = MultiRun(causal_ckpt, live_config())
    for name in ("a", "b"):
        run.add(Scripted([("events", gesture_events.slice_time(None, gesture_events.t_first
                                                               + 100_000)),
                          ("idle", 30.0)], name), name=name)
    run.engine.start()
    run.engine.stop(reason="the source or the model changed")
    assert run.engine.wait(WAIT_S)
    for name in ("a", "b"):
        stopped = [e for e in run.log[name] if getattr(e, "kind", None) == "stopped"]
        assert [e.message for e in stopped] == ["the source or the model changed"]


@pytest.mark.parametrize("gather_ms", [0.0, 15.0])
def test_cameras_whose_bins_close_a_few_ms_apart_share_a_call_when_gathered(
        gesture_events, make_checkpoint, tmp_path, gather_ms):
    """Three cameras on one wall clock, 6 ms apart, 20 ms bins: without gathering an idle
    engine steps each bin on its own; gathering 15 ms steps the three in one call."""
    ckpt = make_checkpoint(tmp_path / "dt20.safetensors", dt_us=20_000)
    events = gesture_events.slice_time(None, gesture_events.t_first + 1_500_000)
    engine = MultiStreamEngine(live_config(batch_gather_ms=gather_ms))
    start_at = time.monotonic() + 0.5
    for k in range(3):
        engine.add(CameraReplay(events, description=f"camera {k}", start_at=start_at + 0.006 * k),
                   name=f"camera{k}")
    engine.load_model(ckpt)
    engine.start()
    assert engine.wait(WAIT_S)
    stats = engine.stats()
    engine.close()
    assert all(s.state == "finished" and s.bins >= 70 for s in stats.streams.values())
    if gather_ms:
        assert stats.mean_batch >= 2.5
    else:  # about 1.0 on an idle machine; a busy one lets bins pile up between calls
        assert stats.mean_batch <= 2.0


def test_a_stream_that_cannot_reconnect_gives_up_alone(gesture_events, causal_ckpt):
    ev = gesture_events
    attempts = []

    def reopen():
        attempts.append(time.monotonic())
        raise StreamDroppedError("nothing is listening (connection refused)")

    run = MultiRun(causal_ckpt, live_config(reconnect_attempts=2))
    run.add(Scripted([("events", ev), ("idle", 0.5)], "steady"), name="steady")
    run.add(Scripted([("events", ev.slice_time(None, ev.t_first + 500_000)),
                      ("drop", "connection lost")], "gone"), name="gone", reopen=reopen)
    run.finish()
    s = run.stats.streams
    assert len(attempts) == 2 and run.kinds("gone").count("reconnecting") == 2
    assert "gave up on gone after 2 reconnection attempts" in s["gone"].error
    assert "connection lost" in s["gone"].error and s["gone"].state == "finished"
    assert s["steady"].error is None and s["steady"].bins == math.ceil(
        (ev.t_last - ev.t_first + 1) / DT)
    # the steady stream was stepped while the other one was retrying
    steady_latency = [p.latency_ms["queue"] for p in run.predictions("steady")]
    assert max(steady_latency) < 1000


def test_backpressure_skips_oldest_per_stream_and_counts(gesture_events, causal_ckpt,
                                                          monkeypatch):
    from live_snn.engine.batched_runner import BatchedRunner

    from .test_engine import LivePaced

    original = BatchedRunner.step

    def slow(self, rows, frames, *, taps=False):
        time.sleep(0.03)  # 3x slower than the 10 ms bins of each stream arrive
        return original(self, rows, frames, taps=taps)

    monkeypatch.setattr(BatchedRunner, "step", slow)
    run = MultiRun(causal_ckpt, EngineConfig(device="cpu", record_taps=False,
                                             max_pending_bins=2))
    for name in ("x", "y"):
        run.add(LivePaced(gesture_events), name=name)
    run.finish()
    n_bins = math.ceil((gesture_events.t_last - gesture_events.t_first + 1) / DT)
    for name, s in run.stats.streams.items():
        predictions = run.predictions(name)
        assert s.bins_skipped > n_bins // 3, f"{name}: a 3x slow model must skip bins"
        assert s.bins + s.bins_skipped == n_bins
        assert sum(p.skipped_before for p in predictions) == s.bins_skipped
    assert run.stats.mean_batch > 1.5  # the two streams' bins were stepped together


def test_names_and_clear_errors(causal_ckpt, window_ckpt, gesture_events):
    assert stream_name("tcp://127.0.0.1:7777") == "tcp_127.0.0.1_7777"
    assert stream_name("sim:seed=3,gesture=4") == "sim_seed=3_gesture=4"
    assert stream_name("../data/arms_a.aedat4") == "arms_a"
    engine = MultiStreamEngine(EngineConfig(device="cpu"))
    with pytest.raises(LiveSnnError, match="no model yet"):
        engine.start()
    engine.load_model(causal_ckpt)
    with pytest.raises(LiveSnnError, match="add\\(\\) at least one source"):
        engine.start()
    first = engine.add(MemorySource(gesture_events, description="a"), name="cam")
    second = engine.add(MemorySource(gesture_events, description="a"), name="cam")
    assert (first, second) == ("cam", "cam-2")
    with pytest.raises(LiveSnnError, match="no stream named 'nope'"):
        engine.reset("nope")
    engine.close()
    window = MultiStreamEngine(EngineConfig(device="cpu"))
    window.add(MemorySource(gesture_events, description="a"))
    window.load_model(window_ckpt)
    with pytest.raises(LiveSnnError, match="several streams need a streaming model"):
        window.start()
    window.close()


def test_every_stream_shows_uncertain_by_the_models_own_threshold(gesture_events, causal_ckpt,
                                                                  with_readout):
    config = EngineConfig(device="cpu", speed=None, record_taps=False)
    plain = run_alone(MemorySource(gesture_events, description="g"), causal_ckpt, config)
    threshold = float(np.median([p.confidence for p in plain]))
    own = with_readout(causal_ckpt, uncertain_below=threshold)
    run = MultiRun(own, config)
    names = [run.add(MemorySource(gesture_events, description=n), name=n) for n in "ab"]
    assert all(run.engine.stream_info(n).uncertain_below == threshold for n in names)
    run.finish()
    for name in names:
        shown = run.predictions(name)
        assert [p.uncertain for p in shown] == [p.confidence < threshold for p in shown]
        assert 0 < sum(p.uncertain for p in shown) < len(shown)
