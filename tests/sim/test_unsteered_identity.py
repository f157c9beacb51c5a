"""What a non-steered session makes, pinned: same draws, same order, same events. The
steerable person (SteeredScript, ``SimStream.cue``) changed the simulator's code and not
these events. The digest below is recomputed by this very function only when the events
are meant to change, and the change is named here: last when a pixel became refractory
after its rebound events too (issue 12; before that, a pixel's next firing could follow its
rebound by less than the refractory period)."""

from __future__ import annotations

import hashlib

from live_snn.sim.config import SimConfig
from live_snn.sim.simulator import GestureSimulator

# Two 2 s streamed sessions (all classes; three classes, another chunking) and one whole
# one-gesture session: events, and every gesture's class, span, tempo, size, phase and style.
MAIN_DIGEST = "4d91703ad6903f157f4abf41d7002903d44bd6d6f0e8da76dc16846628af2144"
MAIN_EVENTS = 184_149


def _digest() -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    for seed, index, chunk_us, classes in ((3, 0, 50_000, None), (11, 2, 20_000, (1, 4, 7))):
        stream = GestureSimulator(SimConfig(seed=seed)).stream(
            index=index, chunk_us=chunk_us, classes=classes, duration_s=2.0)
        for batch in stream:
            h.update(batch.events.tobytes())
            n += len(batch.events)
        for g in stream.script.gestures:
            h.update(repr((g.label, g.start_us, g.end_us, g.freq_hz, g.amplitude, g.phase,
                           g.direction)).encode())
            h.update(g.extra.tobytes())
    session = GestureSimulator(SimConfig(seed=5)).session(n_gestures=1, index=1)
    h.update(session.events.events.tobytes())
    n += len(session.events.events)
    return h.hexdigest(), n


def test_unsteered_sessions_are_what_main_made():
    digest, n = _digest()
    assert n == MAIN_EVENTS
    assert digest == MAIN_DIGEST
