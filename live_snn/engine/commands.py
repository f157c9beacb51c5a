"""Control from any thread, applied on the engine thread: every control call only queues a
command and wakes the engine thread, which applies the commands between bins, so that the
model, its state and the binner are touched by that thread alone."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

STOP_REASON = "stopped by request"   # the stopped event's message when the caller gave none


class CommandQueue:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.wake = threading.Event()  # set by every command; the engine thread sleeps on it

    def put(self, name: str, arg: Any = None) -> None:
        self._queue.put((name, arg, None))
        self.wake.set()

    def call(self, fn: Callable, *args: Any) -> None:
        """Run ``fn(*args)`` on the engine thread and wait for it; its error is raised here."""
        done: dict = {"event": threading.Event(), "error": None}
        self._queue.put(("call", (fn, args), done))
        self.wake.set()
        done["event"].wait()
        if done["error"] is not None:
            raise done["error"]

    def pending(self) -> bool:
        return not self._queue.empty()

    def take(self) -> Iterator[tuple[str, Any]]:
        """Every queued command, oldest first (engine thread). Calls are run here, in their
        turn; the others are handed to the caller as ``(name, arg)``."""
        while True:
            try:
                name, arg, done = self._queue.get_nowait()
            except queue.Empty:
                return
            if name != "call":
                yield name, arg
                continue
            fn, args = arg
            try:
                fn(*args)
            except BaseException as exc:  # handed back to the calling thread
                done["error"] = exc
            finally:
                done["event"].set()

    def idle(self, timeout: float) -> None:
        """Sleep until a command comes or ``timeout`` s pass."""
        self.wake.wait(timeout)
        self.wake.clear()
