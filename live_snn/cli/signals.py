"""Ending a command by signal without losing its output.

The first SIGINT (Ctrl-C) or SIGTERM becomes a ``KeyboardInterrupt`` where the command is,
so that it stops reading and finishes its files; every later one, and any that comes once
the command has said it is finishing (:meth:`StopSignals.hold`), is only acknowledged. A
second Ctrl-C a few milliseconds after the first therefore cannot cut a recording's
finalisation short."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType


class StopSignals:
    """``with StopSignals("live-snn record") as stop: ...``; ``stop.received`` names the
    signal that ended the command, if one did."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, command: str):
        self.command = command
        self.received: str | None = None
        self._holding = False
        self._acknowledged = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def hold(self) -> None:
        """From now on a signal is acknowledged, never raised: the output is being finished."""
        self._holding = True

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.received is None and not self._holding:
            self.received = name
            self._holding = True
            raise KeyboardInterrupt(name)
        if not self._acknowledged:
            self._acknowledged = True
            print(f"\n{self.command}: {name} received; finishing the output first, please wait",
                  file=sys.stderr, flush=True)
