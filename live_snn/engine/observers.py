"""Who listens to an engine: callbacks for every prediction, every status event and every
batch read, all run on the engine thread (they must return quickly: the engine never waits
for a consumer), and the newest predictions kept for a consumer that polls instead."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from live_snn.engine.config import EngineEvent
from live_snn.engine.records import Prediction
from live_snn.events import EventBatch

log = logging.getLogger("live_snn.engine")


class Observers:
    def __init__(self, keep_latest: int):
        self.on_prediction: list[Callable[[Prediction], None]] = []
        self.on_status: list[Callable[[EngineEvent], None]] = []
        self.on_batch: list[Callable[[EventBatch], None]] = []
        self._latest: deque[Prediction] = deque(maxlen=keep_latest)
        self._latest_lock = threading.Lock()

    @staticmethod
    def add(subscribers: list, callback: Callable) -> Callable[[], None]:
        """Add ``callback`` to ``subscribers``; returns a function that removes it."""
        subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in subscribers:
                subscribers.remove(callback)

        return unsubscribe

    def prediction(self, prediction: Prediction) -> None:
        with self._latest_lock:
            self._latest.append(prediction)
        self._call(self.on_prediction, prediction)

    def status(self, event: EngineEvent) -> None:
        log.info("%s: %s", event.kind, event.message)
        self._call(self.on_status, event)

    def batch(self, batch: EventBatch) -> None:
        self._call(self.on_batch, batch)

    def latest(self, n: int = 1) -> list[Prediction]:
        """The newest ``n`` predictions, oldest first (bounded by ``keep_latest``)."""
        with self._latest_lock:
            items = list(self._latest)
        return items[-n:] if n > 0 else []

    @staticmethod
    def _call(subscribers: list[Callable[[Any], None]], item: Any) -> None:
        for callback in list(subscribers):  # a callback may unsubscribe itself
            callback(item)
