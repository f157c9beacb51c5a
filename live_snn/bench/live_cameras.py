"""Simulated live cameras for the streams benchmark: the bundled simulated gesture sessions
(``recordings/*.aedat4``, made by the project's own simulator) delivered in real time, as a
live camera delivers its events.

Why not the ``sim:`` source itself, live: making a session costs the simulator about 0.5 CPU
seconds per simulated second (``live-snn bench sim``), so eight live simulators alone would
need about four cores. A real camera makes its events for free; the benchmark measures what
serving them costs. So the bundled sessions are read once, played end to end as one loop,
and each camera starts at its own place in that loop (a different person at a different
moment). :class:`CameraReplay` hands out packets of 10 ms of events (the simulator's own
packets), each when its time has come on the wall clock, empty packets while nothing
happens, exactly as the live ``sim:`` source paces them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from live_snn.errors import LiveSnnError
from live_snn.events import EventBatch
from live_snn.sources.base import EventSource

PACKET_US = 10_000   # the live simulator's packets (sim: chunk_ms=10)
RECORDINGS = Path(__file__).resolve().parents[2] / "recordings"


class CameraReplay(EventSource):
    """``events`` delivered live: the packet ending at event time ``t`` is handed out when
    ``start_at + (t - first) / 1e6`` has come on ``time.monotonic`` (one clock for every
    process of a Linux machine, so separate processes start their cameras together)."""

    is_live = True

    def __init__(self, events: EventBatch, *, description: str, start_at: float,
                 packet_us: int = PACKET_US):
        if not len(events):
            raise LiveSnnError(f"{description}: no events to replay")
        self.events = events
        self.resolution = events.resolution
        self.description = description
        self.start_at = start_at
        self.packet_us = packet_us
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[EventBatch]:
        t = self.events.t
        first = int(t[0])
        ends = np.arange(first + self.packet_us, int(t[-1]) + self.packet_us + 1, self.packet_us)
        bounds = np.concatenate(([0], np.searchsorted(t, ends, side="left")))
        for lo, hi, end in zip(bounds[:-1], bounds[1:], ends, strict=True):
            due = self.start_at + (int(end) - first) / 1e6
            if self._closed.wait(max(0.0, due - time.monotonic())):
                return
            yield EventBatch(self.events.events[lo:hi], self.resolution)

    def close(self) -> None:
        self._closed.set()


def session_loop(folder: Path = RECORDINGS, gap_us: int = 20_000) -> EventBatch:
    """The bundled sessions end to end (each shifted past the previous one by ``gap_us``)."""
    from live_snn.sources.aedat4 import Aedat4Source

    paths = sorted(folder.glob("*.aedat4"))
    if not paths:
        raise LiveSnnError(f"no recordings in {folder}")
    parts, shift = [], 0
    for path in paths:
        with Aedat4Source(path) as source:
            batch = EventBatch.concatenate(list(source))
        events = batch.events.copy()
        events["t"] += shift - int(events["t"][0])
        shift = int(events["t"][-1]) + gap_us
        parts.append(events)
    return EventBatch(np.concatenate(parts), batch.resolution)


def camera_events(loop: EventBatch, seconds: float, offset_s: float) -> EventBatch:
    """``seconds`` of events starting ``offset_s`` into the loop (played again and again as
    needed): one camera's view."""
    span = int(loop.t_last - loop.t_first) + PACKET_US
    start = int(loop.t_first + (offset_s * 1e6) % span)
    end = start + int(seconds * 1e6)
    copies = int(np.ceil((end - int(loop.t_first)) / span))
    parts = []
    for k in range(copies):
        part = loop.slice_time(start - k * span, end - k * span).events
        if len(part):
            part = part.copy()
            part["t"] += k * span
            parts.append(part)
    return EventBatch(np.concatenate(parts), loop.resolution)
