"""A recording started and stopped by hand while the engine runs (the window's Record
button): the events the engine reads go to an AEDAT4 file, its predictions to the sidecar
JSONL beside it (``OUT.predictions.jsonl``, the format of ``live-snn record
--predictions``), both as they come.

``on_batch`` and ``on_prediction`` run on the engine thread (subscribe them to the engine);
``status()`` and ``stop()`` are for any thread. ``stop(reason)`` closes both files cleanly
with everything so far; the source ending or dropping, or a replay jumping back in time
(a seek), stops it the same way, saying why.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from live_snn.engine.records import Prediction, SessionInfo
from live_snn.events import EventBatch
from live_snn.sinks.aedat4_writer import Aedat4Writer
from live_snn.sinks.jsonl import PredictionWriter
from live_snn.sinks.recording import check_target
from live_snn.sinks.sidecar import sidecar_path


@dataclass(frozen=True)
class RecordingStatus:
    path: Path
    events: int
    bins: int                    # predictions written beside it
    span_s: float                # first to last recorded event
    wall_s: float                # since Record was pressed
    stopped: bool
    reason: str                  # why it stopped ("" while recording)


class LiveRecording:
    def __init__(self, path: str | Path, info: SessionInfo, *, force: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        check_target(self.path, force)
        self.predictions_path = sidecar_path(self.path)
        self._partial = self.path.with_name(f"{self.path.stem}.partial.aedat4")
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self._writer = Aedat4Writer(self._partial, info.sensor, info.source_description)
        try:
            self._predictions = PredictionWriter(self.predictions_path, info, header_extra={
                "recording": self.path.name, "recorded_source": info.source_description})
        except BaseException:
            self._writer.close()
            self._partial.unlink(missing_ok=True)
            raise
        self.events = 0
        self.first_us: int | None = None
        self.last_us: int | None = None
        self.reason = ""
        self._stopped_wall: float | None = None

    # ---- engine thread ---------------------------------------------------------------------
    def on_batch(self, batch: EventBatch) -> None:
        if not len(batch):
            return
        with self._lock:
            if self._stopped_wall is not None:
                return
            if self.last_us is not None and int(batch.t[0]) < self.last_us:
                self._stop("the replay jumped back in time (a seek): recording stopped there")
                return
            self._writer.write(batch)
            self.events += len(batch)
            if self.first_us is None:
                self.first_us = int(batch.t[0])
            self.last_us = int(batch.t[-1])

    def on_prediction(self, prediction: Prediction) -> None:
        with self._lock:
            # Bins of the recorded events only: none before the first recorded event.
            if self._stopped_wall is None and self.first_us is not None and \
                    prediction.t_end_us > self.first_us:
                self._predictions.write(prediction)

    # ---- any thread -------------------------------------------------------------------------
    def stop(self, reason: str = "stopped") -> RecordingStatus:
        with self._lock:
            self._stop(reason)
        return self.status()

    def _stop(self, reason: str) -> None:
        if self._stopped_wall is not None:
            return
        self._stopped_wall = self._clock()
        self.reason = reason
        self._writer.close()
        self._predictions.close()
        os.replace(self._partial, self.path)

    @property
    def stopped(self) -> bool:
        return self._stopped_wall is not None

    def status(self) -> RecordingStatus:
        with self._lock:
            end = self._stopped_wall if self._stopped_wall is not None else self._clock()
            span = 0.0 if self.first_us is None else (self.last_us - self.first_us) / 1e6
            return RecordingStatus(self.path, self.events, self._predictions.lines, span,
                                   end - self._started, self.stopped, self.reason)
