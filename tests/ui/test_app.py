"""Application start-up helpers (``live_snn_ui.app``)."""

from __future__ import annotations

import gc
import threading

from live_snn_ui.app import garbage_collected_on_gui_thread


class _Cycle:
    """Garbage only the cyclic collector frees; records the thread that freed it."""

    def __init__(self, freed_on: list[int]):
        self.me = self
        self.freed_on = freed_on

    def __del__(self):
        self.freed_on.append(threading.get_ident())


def test_while_the_window_runs_garbage_is_collected_on_the_gui_thread_only(qapp, qtbot):
    freed_on: list[int] = []

    def engine_thread_work():
        # Enough new objects to cross the collector's first threshold in this thread.
        for _ in range(2000):
            _Cycle(freed_on)

    assert gc.isenabled()
    with garbage_collected_on_gui_thread(interval_s=0.05):
        assert not gc.isenabled()
        worker = threading.Thread(target=engine_thread_work)
        worker.start()
        worker.join()
        assert freed_on == []  # nothing was freed by the worker
        qtbot.waitUntil(lambda: len(freed_on) >= 2000, timeout=5000)
    assert gc.isenabled()
    assert set(freed_on) == {threading.get_ident()}
