"""What a fine-tune is asked (:class:`FineTuneConfig`), what it reports while it runs
(:class:`FineTuneProgress`, with the ETA kept by :class:`ProgressReporter`), what it answers
(:class:`FineTuneResult`) and how it fails (:class:`FineTuneError`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from live_snn.errors import LiveSnnError
from live_snn.train.loss import LossConfig


class FineTuneError(LiveSnnError):
    """Taught sessions or a base model that cannot be fine-tuned as asked."""


class FineTuneCancelled(FineTuneError):
    """``cancel`` was set."""


@dataclass(frozen=True)
class FineTuneConfig:
    steps: int = 900              # measured: docs/benchmarks.md (scripts/teach_sweep.py)
    batch_size: int = 32
    window: int = 40              # bins per training window, burn-in included
    burn_in: int = 10
    lr: float = 5e-3
    weight_decay: float = 1e-3
    first_trained_block: int | None = None   # None: train the head only (after every block)
    holdout_per_class: int = 1
    before_s: float = 0.4         # what a clip keeps ahead of its take (the trunk warms up)
    after_s: float = 0.3          # and after it (the end of a gesture, then rest)
    eval_every: int = 50
    feature_batch: int = 16       # clips through the trunk side by side
    seed: int = 0
    loss: LossConfig = field(default_factory=lambda: LossConfig(kind="mse", rest_weight=0.1))


@dataclass(frozen=True)
class FineTuneProgress:
    stage: str                    # "reading" | "trunk" | "training" | "done"
    done: int
    total: int
    elapsed_s: float
    eta_s: float | None           # the whole job's remaining time, once measurable
    val_accuracy: float | None = None

    @property
    def fraction(self) -> float:
        weight = {"reading": (0.0, 0.05), "trunk": (0.05, 0.6), "training": (0.65, 0.35),
                  "done": (1.0, 0.0)}[self.stage]
        return weight[0] + weight[1] * (self.done / max(self.total, 1))


@dataclass(frozen=True)
class FineTuneResult:
    path: Path
    class_names: tuple[str, ...]
    val_accuracy: float | None    # streaming accuracy on the held-out takes
    val_takes: int
    train_takes: int
    seconds: float
    base_sha256: str
    history: list[dict]


ProgressCallback = Callable[[FineTuneProgress], None]


class ProgressReporter:
    """Progress with an ETA: the trunk pass at its measured rate, the training steps at a
    step time measured before the pass and then while training."""

    def __init__(self, callback: ProgressCallback | None, started: float):
        self.callback, self.started = callback, started
        self.bins_total = self.bins_done = 0
        self.step_s = 0.0
        self.steps_total = 0
        self.trunk_started = self.train_started = 0.0

    def __call__(self, stage: str, done: int, total: int, accuracy: float | None = None,
                 eta: float | None = None) -> None:
        if self.callback is not None:
            self.callback(FineTuneProgress(stage, done, total, time.perf_counter() - self.started,
                                           eta, accuracy))

    def begin_trunk(self, bins: int, step_s: float, steps: int) -> None:
        self.bins_total, self.step_s, self.steps_total = bins, step_s, steps
        self.trunk_started = time.perf_counter()
        self("trunk", 0, bins)

    def trunk_done(self, bins: int) -> None:
        self.bins_done += bins
        rate = (time.perf_counter() - self.trunk_started) / max(self.bins_done, 1)
        eta = rate * (self.bins_total - self.bins_done) + self.step_s * self.steps_total
        self("trunk", self.bins_done, self.bins_total, eta=eta)

    def training(self, step: int, total: int, accuracy: float | None) -> None:
        if step == 1:
            self.train_started = time.perf_counter()
        self.steps_total = total
        per_step = (time.perf_counter() - self.train_started) / max(step - 1, 1) if step > 1 \
            else self.step_s
        self("training", step, total, accuracy, eta=per_step * (total - step))
