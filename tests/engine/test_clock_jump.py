"""A live event clock that jumps is re-anchored, reported with the offending timestamp and
the model reset; the gap never becomes empty bins (issue #13, case 3: it used to end in
"MemoryError: Unable to allocate 839 TiB")."""

from __future__ import annotations

import re
import time

import numpy as np

from live_snn.engine import Engine
from live_snn.engine.config import EngineConfig
from live_snn.events import EventBatch, Resolution
from live_snn.sources.base import EventSource

JUMP_US = 1 << 52


class JumpingCamera(EventSource):
    """A live source whose clock leaps by ``jump_us`` (default ~143 years forward) after 20
    batches of 20 ms that start at ``t0_us``."""

    is_live = True
    resolution = Resolution(128, 128)
    description = "jumping camera"

    def __init__(self, t0_us: int = 1_000_000, jump_us: int = JUMP_US):
        self.t0_us, self.jump_us = t0_us, jump_us

    def __iter__(self):
        rng = np.random.default_rng(0)
        t = self.t0_us
        for k in range(40):
            ts = np.sort(rng.integers(t, t + 20_000, 200)) + (self.jump_us if k >= 20 else 0)
            yield EventBatch.from_arrays(ts, rng.integers(0, 128, 200), rng.integers(0, 128, 200),
                                         rng.integers(0, 2, 200), self.resolution)
            t += 20_000
            time.sleep(0.01)
        while True:
            time.sleep(0.05)
            yield EventBatch.empty(self.resolution)


def run_camera(causal_ckpt, camera):
    engine = Engine(EngineConfig(device="cpu", backpressure="process-all"))
    events, predictions = [], []
    engine.subscribe_status(events.append)
    engine.subscribe(predictions.append)
    engine.open(camera)
    engine.load_model(causal_ckpt)
    engine.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sum(p.events for p in predictions) < 8000:
        time.sleep(0.05)
    engine.stop()
    stats = engine.stats()
    engine.close()
    assert stats.state != "failed", stats.error
    return events, predictions


def test_a_forward_jump_is_reported_and_re_anchored(causal_ckpt):
    events, predictions = run_camera(causal_ckpt, JumpingCamera())
    jumps = [e.message for e in events if e.kind == "clock_jump"]
    assert len(jumps) == 1
    offending = re.search(r"event at t=(\d+) us after (\d+) us", jumps[0])
    assert "jumped forward by" in jumps[0] and int(offending.group(1)) >= JUMP_US
    assert int(offending.group(2)) < 2_000_000
    assert "more than the 60 s allowed" in jumps[0] and "re-anchored" in jumps[0]
    assert any(e.kind == "reset" and "clock re-anchored" in e.message for e in events)
    # bins go on counting across the jump: no bin was made for the gap
    assert sum(p.events for p in predictions) >= 8000 and len(predictions) < 200
    indices = [p.bin for p in predictions]
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    after = [p for p in predictions if p.t_start_us >= JUMP_US]
    assert after and after[0].bin == max(p.bin for p in predictions if p.t_start_us < JUMP_US) + 1


def test_a_backward_jump_is_reported_and_re_anchored_not_dropped(causal_ckpt):
    """A clock that steps back by far more than --max-jump (a camera reset to t=0) is the
    same case: re-anchored and reported; its events are run, not dropped as late."""
    events, predictions = run_camera(causal_ckpt,
                                     JumpingCamera(t0_us=JUMP_US, jump_us=1_000_000 - JUMP_US))
    jumps = [e.message for e in events if e.kind == "clock_jump"]
    assert len(jumps) == 1, [e.message for e in events]
    offending = re.search(r"event at t=(\d+) us after (\d+) us", jumps[0])
    assert "jumped back by" in jumps[0] and int(offending.group(1)) < 2_000_000
    assert int(offending.group(2)) >= JUMP_US and "re-anchored" in jumps[0]
    assert any(e.kind == "reset" and "clock re-anchored" in e.message for e in events)
    assert sum(p.events for p in predictions) >= 8000 and len(predictions) < 200
    indices = [p.bin for p in predictions]
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    after = [p for p in predictions if p.t_start_us < JUMP_US]
    assert after and after[0].bin == max(p.bin for p in predictions if p.t_start_us >= JUMP_US) + 1
