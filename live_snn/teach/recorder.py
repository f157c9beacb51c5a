"""A teaching session being recorded: the prompts (:class:`TeachSession`) on the clock of
the events as they are written, and the folder they end up in.

``feed(batch)`` is called with every batch of the source, on any one thread (the engine's
batch callback in the window, the reading loop of ``live-snn teach record``); the view
reads ``status()`` and calls ``redo()`` / ``discard()`` / ``stop()`` from its own thread.
Events go to ``teach.partial.aedat4`` as they come; ``finish()`` closes it as
``teach.aedat4`` and writes the labels of the kept takes and the JSON beside it
(:mod:`live_snn.sinks.teach_folder`). A source that goes silent still moves the prompts on:
``tick()`` runs the clock on wall time from the last event.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from live_snn.events import EventBatch, LabelSegment, LabelTrack, Resolution
from live_snn.sinks.aedat4_writer import Aedat4Writer
from live_snn.sinks.teach_folder import (
    PARTIAL_RECORDING_FILE,
    RECORDING_FILE,
    prepare_folder,
    write_session_files,
)
from live_snn.sources.performer import Performer
from live_snn.teach.plan import TeachPlan
from live_snn.teach.session import ENDED, Take, TeachSession, TeachStatus

SILENCE_S = 0.2   # after this long without events, the clock follows the wall clock


@dataclass(frozen=True)
class TeachResult:
    folder: Path
    takes: tuple[Take, ...]          # every take, kept or not
    kept_per_class: dict[str, int]
    events: int
    message: str

    @property
    def kept(self) -> int:
        return sum(self.kept_per_class.values())


class TeachRecorder:
    def __init__(self, plan: TeachPlan, folder: str | Path, *, resolution: Resolution,
                 source_description: str, performer: Performer | None = None,
                 live: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        if performer is not None:
            performer.check_can_perform(plan.class_names)
        self.folder = prepare_folder(folder)
        self.plan = plan
        self.resolution = Resolution.of(resolution)
        self.source_description = source_description
        self.live = live
        self._clock = clock
        self._lock = threading.Lock()
        self.session = TeachSession(plan, on_cue=None if performer is None else performer.perform)
        self._writer = Aedat4Writer(self.folder / PARTIAL_RECORDING_FILE, self.resolution,
                                    "live_snn teach")
        self.events_written = 0
        self.first_us: int | None = None
        self.last_us: int | None = None
        self._last_wall = clock()
        self.result: TeachResult | None = None

    # ---- from the source's thread ---------------------------------------------------------
    def feed(self, batch: EventBatch) -> None:
        with self._lock:
            if self.result is not None:
                return
            if len(batch):
                self._writer.write(batch)
                self.events_written += len(batch)
                if self.first_us is None:
                    self.first_us = int(batch.t[0])
                self.last_us = int(batch.t[-1])
                self._last_wall = self._clock()
                self.session.advance(self.last_us)
            else:
                self._follow_wall_clock()

    def tick(self) -> None:
        """Called now and then when no batch came: a silent live source's clock runs on."""
        with self._lock:
            if self.result is None:
                self._follow_wall_clock()

    def _follow_wall_clock(self) -> None:
        if not self.live or self.last_us is None:
            return
        silent_s = self._clock() - self._last_wall
        if silent_s > SILENCE_S:
            self.session.advance(self.last_us + int(silent_s * 1e6))

    # ---- from the view's thread -----------------------------------------------------------
    def status(self) -> TeachStatus:
        with self._lock:
            return self.session.status()

    @property
    def ended(self) -> bool:
        with self._lock:
            return self.session.phase in ENDED

    def redo(self) -> bool:
        with self._lock:
            return self.session.redo()

    def discard(self) -> bool:
        with self._lock:
            return self.session.discard()

    def stop(self) -> None:
        with self._lock:
            self.session.stop()

    def source_lost(self, reason: str) -> None:
        with self._lock:
            self.session.source_lost(reason)

    def finish(self) -> TeachResult:
        """Close the recording and write the labels and the JSON (a take under way is
        thrown away, as by ``stop()``). Safe to call twice."""
        with self._lock:
            if self.result is not None:
                return self.result
            if self.session.phase not in ENDED:
                self.session.stop()
            self._writer.close()
            os.replace(self.folder / PARTIAL_RECORDING_FILE, self.folder / RECORDING_FILE)
            takes = self._covered(self.session.takes)
            kept = [t for t in takes if t.status == "kept"]
            names = self.plan.class_names
            labels = LabelTrack(tuple(LabelSegment(t.class_index, t.start_us, t.end_us)
                                      for t in sorted(kept, key=lambda t: t.start_us)), names)
            write_session_files(self.folder, labels, self._meta(takes))
            per_class = {n: sum(t.class_index == i for t in kept) for i, n in enumerate(names)}
            lost = [t for t in takes if t.status in ("lost", "cut short")]
            message = f"{len(kept)} takes kept in {self.folder}"
            if lost:
                message += "; " + "; ".join(f"take {t.number} ({t.class_name}) discarded: "
                                            f"{t.note}" for t in lost)
            self.result = TeachResult(self.folder, tuple(takes), per_class,
                                      self.events_written, message)
            return self.result

    def _covered(self, takes: list[Take]) -> list[Take]:
        """A kept take must lie inside the recording (a source that went silent for good
        can leave the last one past its last event)."""
        last = self.last_us if self.last_us is not None else -1
        return [replace(t, status="lost", note="the recording ends before the take does")
                if t.status == "kept" and t.end_us > last + 1 else t for t in takes]

    def _meta(self, takes: list[Take]) -> dict:
        return {
            "class_names": list(self.plan.class_names),
            "plan": self.plan.as_dict(),
            "source": self.source_description,
            "resolution": [self.resolution.width, self.resolution.height],
            "events": self.events_written,
            "first_us": self.first_us,
            "last_us": self.last_us,
            "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "takes": [asdict(t) for t in takes],
        }
