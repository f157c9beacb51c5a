"""A fine-tune running in the background, for a view that polls it (the window's Train
button): ``FineTuneJob(folders, out).start()``, then ``progress()`` / ``done`` /
``result`` / ``error`` from any thread; ``cancel()`` stops it between steps."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from live_snn.teach.finetune import fine_tune
from live_snn.teach.finetune_config import FineTuneConfig, FineTuneProgress, FineTuneResult


class FineTuneJob:
    def __init__(self, folders: Sequence[str | Path], out: str | Path, *,
                 base: str | Path | None = None, config: FineTuneConfig | None = None):
        self.folders, self.out, self.base = list(folders), Path(out), base
        self.config = config or FineTuneConfig()
        self.result: FineTuneResult | None = None
        self.error: BaseException | None = None
        self._progress: FineTuneProgress | None = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-snn-teach-train",
                                        daemon=True)

    def start(self) -> FineTuneJob:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.result = fine_tune(self.folders, self.out, base=self.base, config=self.config,
                                    on_progress=self._on_progress, cancel=self._cancel)
        except BaseException as exc:  # handed to the view, which says it in one line
            self.error = exc

    def _on_progress(self, progress: FineTuneProgress) -> None:
        self._progress = progress

    def progress(self) -> FineTuneProgress | None:
        return self._progress

    @property
    def done(self) -> bool:
        return not self._thread.is_alive() and (self.result is not None or self.error is not None)

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()
