"""What :class:`~live_snn.engine.Engine` and :class:`~live_snn.engine.MultiStreamEngine` do
the same way around their one engine thread: start it, stop it (a command to the thread, then
a join unless called on that thread), close, serve as a context manager and wait for the end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from live_snn.engine.commands import STOP_REASON, CommandQueue

_E = TypeVar("_E", bound="EngineLifecycle")


class EngineLifecycle:
    """Mixed into an engine that sets ``_commands``, ``_ended`` and ``_thread`` (None until
    started) and says how to let go of what it holds when it is stopped before it started
    (:meth:`_stop_unstarted`)."""

    _commands: CommandQueue
    _ended: threading.Event
    _thread: threading.Thread | None
    stop_timeout_s: float = 5.0   # how long stop() waits for the engine thread by default

    def _start_thread(self, target: Callable[[], None], name: str) -> None:
        self._thread = threading.Thread(target=target, name=name, daemon=True)
        self._thread.start()

    def _stop_unstarted(self) -> None:
        raise NotImplementedError

    def stop(self, timeout: float | None = None, *, reason: str = STOP_REASON) -> None:
        """End the run (the stats stay available in ``stats()``); closes the sources.
        ``timeout``: how long to wait for the engine thread (default ``stop_timeout_s``);
        ``reason``: the message of the ``stopped`` event (who stopped it and why)."""
        if self._thread is None:
            self._stop_unstarted()
            self._ended.set()
            return
        self._commands.put("stop", reason)
        if threading.current_thread() is not self._thread:
            self._thread.join(self.stop_timeout_s if timeout is None else timeout)

    def close(self) -> None:
        self.stop()

    def __enter__(self: _E) -> _E:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (finished, failed or stopped; with several streams,
        every stream); False on timeout."""
        return self._ended.wait(timeout)
