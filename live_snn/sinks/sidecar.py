"""Predictions beside a recording: ``live-snn record --predictions`` runs the model on the
very batches being recorded and writes ``OUT.predictions.jsonl`` (session header with the
model's hash and the binning, then one line per bin), so the session can be replayed from
the recording later and compared bin by bin.

The recorder hands each batch to :meth:`PredictionSidecar.on_batch`; a
:class:`PushedSource` carries it to the engine's reader thread. A live source is never held
up by the model: it follows the engine's backpressure policy (bins skipped are counted in
``skipped_before``). A replayed file is processed completely, at the model's pace."""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

from live_snn.engine.config import EngineConfig
from live_snn.engine.engine import Engine
from live_snn.engine.records import EngineStats
from live_snn.errors import LiveSnnError, StreamDroppedError
from live_snn.events import EventBatch, LabelTrack, Resolution
from live_snn.sinks.jsonl import PredictionWriter
from live_snn.sources.base import EventSource

HEARTBEAT_S = 0.05
MAX_HELD_EMPTY_BINS = 1000  # a longer silence is written as it comes


def sidecar_path(recording: str | Path) -> Path:
    """``OUT.aedat4`` -> ``OUT.predictions.jsonl``."""
    recording = Path(recording)
    return recording.with_name(f"{recording.stem}.predictions.jsonl")


def check_sidecar_target(recording: str | Path, force: bool) -> Path:
    path = sidecar_path(recording)
    if path.exists() and not force:
        raise LiveSnnError(f"{path} exists; use --force to overwrite it")
    return path


class PushedSource(EventSource):
    """A live source fed by another thread: ``push(batch)`` ... ``end()``."""

    is_live = True

    def __init__(self, resolution: Resolution, description: str, *,
                 labels: LabelTrack | None = None, max_batches: int = 4096):
        self.resolution = Resolution.of(resolution)
        self.description = description
        self.labels = labels
        self._queue: queue.Queue = queue.Queue(maxsize=max_batches)
        self._closed = threading.Event()

    def push(self, batch: EventBatch) -> None:
        while not self._closed.is_set():
            try:
                self._queue.put(batch, timeout=HEARTBEAT_S)
                return
            except queue.Full:
                continue

    def end(self, error: BaseException | None = None) -> None:
        """No more batches; ``error`` (e.g. the camera went away) ends the stream with it."""
        self._queue.put(error if error is not None else StopIteration())

    def __iter__(self) -> Iterator[EventBatch]:
        while not self._closed.is_set():
            try:
                item = self._queue.get(timeout=HEARTBEAT_S)
            except queue.Empty:
                yield EventBatch.empty(self.resolution)  # the consumer keeps control
                continue
            if isinstance(item, StopIteration):
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self._closed.set()


class PredictionSidecar:
    """Runs the engine on what is being recorded and writes the sidecar JSONL."""

    def __init__(self, source: EventSource, recording: str | Path, *, model=None,
                 config: EngineConfig | None = None):
        self.path = sidecar_path(recording)
        live = bool(source.is_live)
        config = config or EngineConfig()
        if not live:
            # A replayed file may come faster than real time: every bin is processed, and
            # bins close on events only (its clock is not the wall clock).
            config = dataclasses.replace(config, backpressure="process-all",
                                         live_silence_margin_ms=None)
        self.pushed = PushedSource(source.resolution, source.description,
                                   labels=getattr(source, "labels", None))
        self.engine = Engine(config)
        self.engine.open(self.pushed)
        self.engine.load_model(model)
        info = self.engine.session_info()
        self.writer = PredictionWriter(self.path, info, header_extra={
            "recording": Path(recording).name, "recorded_source": source.description})
        self._held: list = []
        self.engine.subscribe(self._write)
        self.engine.start()

    def _write(self, prediction) -> None:
        # Empty bins after the newest event wait until an event shows they lie inside the
        # recording: at the end, the live clock runs on while the recording is finalised,
        # and a replay of the file ends with its last event.
        if prediction.events == 0:
            self._held.append(prediction)
            if len(self._held) < MAX_HELD_EMPTY_BINS:
                return
        for held in self._held:
            self.writer.write(held)
        self._held.clear()
        if prediction.events:
            self.writer.write(prediction)

    def on_batch(self, batch: EventBatch) -> None:
        self.pushed.push(batch)

    def finish(self, *, dropped: str | None = None, timeout: float = 60.0) -> EngineStats:
        """The recording ended: let the engine run out, close the file, return the stats."""
        self.pushed.end(StreamDroppedError(dropped) if dropped else None)
        if not self.engine.wait(timeout):
            self.engine.stop()
        stats = self.engine.stats()
        self.engine.close()
        self._held.clear()  # after the last recorded event: not part of the recording
        self.writer.close()
        return stats
