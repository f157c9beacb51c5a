"""Reconnecting one stream of a multi-stream engine without holding up the others.

A :class:`Reconnector` makes bounded attempts to reopen a dropped stream on a thread of its
own, with a doubling delay between them (the single-stream engine makes the same attempts on
its own thread, which has nothing else to do). The engine thread collects what it has to
report with :meth:`Reconnector.news` and, once :attr:`Reconnector.done`, takes the reopened
source (or the last error) from it. Both engines say what they try and when they give up
in the same words (:func:`budget_spent`, :func:`attempt_line`, :func:`attempts_spent`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from live_snn.errors import SourceError, StreamDroppedError


def budget_spent(error: BaseException, spec: str, done: int,
                 budget: int) -> StreamDroppedError | None:
    """Why ``spec`` is given up on before any attempt, when this session's ``done``
    reconnections have used its ``budget`` (a server that accepts and drops forever); else
    None."""
    if done < budget:
        return None
    return StreamDroppedError(f"{error}; gave up on {spec} after {done} reconnections this "
                              f"session (the limit is {budget})")


def attempt_line(spec: str, attempt: int, attempts: int, delay_s: float, done: int,
                 budget: int) -> str:
    """The "reconnecting" status line before an attempt."""
    return (f"reconnecting to {spec} in {delay_s:.1f} s (attempt {attempt} of {attempts}; "
            f"reconnection {done + 1} of at most {budget} this session)")


def attempts_spent(error: BaseException, spec: str, attempts: int,
                   last: BaseException) -> StreamDroppedError:
    """Why ``spec`` is given up on after ``attempts`` failed attempts, ``last`` the last."""
    return StreamDroppedError(f"{error}; gave up on {spec} after {attempts} reconnection "
                              f"attempts (last: {last})")


class Reconnector:
    """``reopen()`` tried up to ``attempts`` times, ``delay_s`` before the first try and
    doubling up to ``max_delay_s``; ``describe(attempt, delay_s)`` says what is about to
    happen (a "reconnecting" status line). ``on_news`` is called (on the reconnector's thread)
    whenever there is something to collect."""

    def __init__(self, reopen: Callable[[], object], *, attempts: int, delay_s: float,
                 max_delay_s: float, describe: Callable[[int, float], str],
                 on_news: Callable[[], None] = lambda: None):
        self._reopen = reopen
        self.attempts = attempts
        self._delay_s = delay_s
        self._max_delay_s = max_delay_s
        self._describe = describe
        self._on_news = on_news
        self._lock = threading.Lock()
        self._news: list[str] = []
        self._cancelled = threading.Event()
        self.source = None                        # the reopened source, once done
        self.last_error: BaseException | None = None
        self.done = False
        self._thread = threading.Thread(target=self._run, name="live-snn-reconnect",
                                        daemon=True)

    def start(self) -> Reconnector:
        self._thread.start()
        return self

    def news(self) -> list[str]:
        """The "reconnecting" lines since the last call, oldest first."""
        with self._lock:
            news, self._news = self._news, []
        return news

    def take_source(self):
        """The reopened source (None if none), handed over once."""
        with self._lock:
            source, self.source = self.source, None
        return source

    def cancel(self) -> None:
        """Stop trying (the engine stops); a source opened meanwhile is closed."""
        self._cancelled.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5.0)
        source = self.take_source()
        if source is not None:
            source.close()

    def _run(self) -> None:
        delay = self._delay_s
        try:
            for attempt in range(1, self.attempts + 1):
                with self._lock:
                    self._news.append(self._describe(attempt, delay))
                self._on_news()
                if self._cancelled.wait(delay):
                    return
                try:
                    source = self._reopen()
                except SourceError as exc:
                    self.last_error = exc
                    delay = min(2 * delay, self._max_delay_s)
                    continue
                with self._lock:
                    keep = not self._cancelled.is_set()
                    if keep:
                        self.source = source
                if not keep:
                    source.close()
                return
        except BaseException as exc:  # reported by the engine thread as this stream's failure
            self.last_error = exc
        finally:
            self.done = True
            self._on_news()
