"""The multi-stream engine thread's gathering, on scripted streams and a recording runner (no
model, no clocks to race): which bins go into which call, and what a stream that fails while
bins gather does to the call."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from live_snn.engine.commands import CommandQueue
from live_snn.engine.multi_loop import MultiRunLoop
from live_snn.engine.multi_stats import BatchCounters
from live_snn.engine.stream_lane import STEPPING_PHASES

NO_LATENCY = {"event_to_bin": float("nan")}


@dataclass
class ScriptedLane:
    """A stream as the loop sees it: ``bins`` are handed out one per ``next_bin`` (every
    other call with ``alternate``: its bin closes a little after the others'); once they are
    gone it finishes. ``fails_after_bin``: its next poll after handing out that many bins
    breaks it (a decoder bug). ``closes_soon``: it says a bin of its is about to close.
    ``lasts_while``: a lane that hands out nothing and runs until that one has ended."""

    name: str
    row: int
    bins: int
    fails_after_bin: int | None = None
    closes_soon: bool = False
    alternate: bool = False
    lasts_while: ScriptedLane | None = None
    phase: str = "running"
    arrived: bool = False
    due: float | None = None
    handed: int = 0
    calls: int = 0
    emitted: list[int] = field(default_factory=list)
    wake: threading.Event | None = None

    __hash__ = object.__hash__

    @property
    def active(self) -> bool:
        return self.phase == "running"

    @property
    def steppable(self) -> bool:
        return self.phase in STEPPING_PHASES

    def closes_between(self, start: float, end: float) -> bool:
        return self.active and self.closes_soon

    def poll(self) -> None:
        if self.fails_after_bin is not None and self.handed >= self.fails_after_bin:
            self.phase = "failed"

    def next_bin(self, now: float):
        if not self.active:
            return None
        if self.lasts_while is not None:
            if not self.lasts_while.active:
                self.phase = "finished"
            return None
        if self.handed >= self.bins:
            self.phase = "finished"
            return None
        self.calls += 1
        if self.alternate and self.calls % 2:
            return None
        self.handed += 1
        if self.fails_after_bin == self.handed:
            self.arrived = True  # news for the engine thread: the next poll breaks it
            self.wake.set()
        return SimpleNamespace(frame=SimpleNamespace(counts=np.zeros((2, 4, 4), np.float32)),
                               index=self.handed)

    def prepare(self, closed) -> None:
        pass

    def emit(self, closed, *_args, **_kw):
        self.emitted.append(closed.index)
        return SimpleNamespace(latency_ms=NO_LATENCY)

    def fail(self, exc) -> None:
        self.phase = "failed"

    def stop(self, reason: str) -> None:
        self.phase = "stopped"

    def close(self) -> None:
        pass


class RecordingRunner:
    def __init__(self):
        self.calls: list[list[int]] = []

    def step(self, rows, frames, *, taps):
        self.calls.append(sorted(rows))
        k = len(rows)
        return SimpleNamespace(scores=np.zeros((k, 11)), attention=[{}] * k,
                               spike_rates=[{}] * k, step_ms=0.1)


def run_loop(lanes: list[ScriptedLane], gather_ms: float) -> RecordingRunner:
    commands = CommandQueue()
    for lane in lanes:
        lane.wake = commands.wake
    runner = RecordingRunner()
    loop = MultiRunLoop(runner, lanes, commands=commands, counters=BatchCounters(),
                        ended=threading.Event(), record_taps=False, gather_ms=gather_ms)
    loop.run()
    assert loop.error is None, loop.error
    return runner


def test_a_stream_that_fails_while_bins_gather_is_left_out_of_the_call():
    steady = ScriptedLane("steady", row=0, bins=3)
    breaks = ScriptedLane("breaks", row=1, bins=3, fails_after_bin=2)
    late = ScriptedLane("late", row=2, bins=0, closes_soon=True, lasts_while=steady)  # due,
    runner = run_loop([steady, breaks, late], gather_ms=30.0)                    # never comes
    assert runner.calls == [[0, 1], [0], [0]]   # its second bin was gathered, then it broke
    assert breaks.emitted == [1] and breaks.phase == "failed"
    assert steady.emitted == [1, 2, 3] and steady.phase == "finished"


def test_a_bin_closing_just_after_the_others_joins_their_call_when_gathered():
    def lanes():
        return [ScriptedLane("first", row=0, bins=2),
                ScriptedLane("just after", row=1, bins=2, alternate=True, closes_soon=True)]

    assert run_loop(lanes(), gather_ms=30.0).calls == [[0, 1], [0, 1]]
    assert run_loop(lanes(), gather_ms=0.0).calls == [[0], [0, 1], [1]]
