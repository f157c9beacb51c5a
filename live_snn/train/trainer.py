"""The training loop: windows at random offsets, per-step loss, periodic streaming
validation, best and last checkpoints (safetensors, with all metadata), exact resume.

Reproducibility: the weights are initialised under ``seed``; the windows of step s and the
dropout masks of step s are drawn from generators seeded with ``(seed, s, rank)``; the
learning rate is a pure function of s. So a run stopped after any checkpoint and resumed
continues exactly as if it had never stopped, and two runs with one seed give one model
(on one kind of device with deterministic kernels, as on CPU).

Files in ``out_dir``: ``last.safetensors`` and ``best.safetensors`` (loadable with
``live_snn.model.load_checkpoint``), ``resume.safetensors`` (model weights, optimiser
moments and the step, for ``--resume``), ``history.jsonl`` (one validation per line).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm import tqdm

from live_snn.classes import time_reversed_classes
from live_snn.errors import CheckpointError
from live_snn.train.distributed import DistContext, all_reduce_sum, barrier
from live_snn.train.evaluate import StreamingConfig, StreamingResult, streaming_evaluation
from live_snn.train.loss import LossConfig, per_step_loss
from live_snn.train.sessions import LabelledSession
from live_snn.train.windows import WindowSampler, WindowSpec

RESUME_FILE = "resume.safetensors"
LAST_FILE = "last.safetensors"
BEST_FILE = "best.safetensors"
HISTORY_FILE = "history.jsonl"


@dataclass(frozen=True)
class KeepRule:
    """Which validation ``best.safetensors`` keeps, fixed before training starts.

    ``accuracy``: the highest streaming accuracy (per-step accuracy breaks ties).
    ``fastest``: among validations whose streaming accuracy is at least ``min_accuracy``, the
    lowest onset median (then the highest streaming and per-step accuracy); while none
    qualifies, the most accurate, so a run always has a best checkpoint."""

    kind: str = "accuracy"           # "accuracy" | "fastest"
    min_accuracy: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("accuracy", "fastest"):
            raise ValueError(f"rule must be 'accuracy' or 'fastest:ACC', got {self.kind!r}")
        if not 0.0 <= self.min_accuracy <= 1.0:
            raise ValueError(f"the accuracy floor must be in [0, 1], got {self.min_accuracy}")

    @classmethod
    def parse(cls, text: str) -> KeepRule:
        kind, _, floor = text.partition(":")
        if kind == "fastest":
            try:
                return cls("fastest", float(floor))
            except ValueError:
                raise ValueError(f"'fastest' needs an accuracy floor in [0, 1], e.g. "
                                 f"fastest:0.97, got {floor!r}") from None
        if floor:
            raise ValueError(f"'{kind}' takes no value")
        return cls(kind)

    def metric(self, accuracy: float, step_accuracy: float,
               onsets_ms: Sequence[float | None]) -> float:
        """Larger is better; comparable across one run's validations. ``onsets_ms``: each
        validation gesture's onset latency, None for one never recognised."""
        accurate = accuracy + 1e-3 * step_accuracy
        if self.kind == "accuracy":
            return accurate
        median = median_onset_counting_misses(onsets_ms)
        if accuracy >= self.min_accuracy and math.isfinite(median):
            # Onset medians are whole milliseconds apart at least: accuracy only breaks ties.
            return 1e6 - median + 1e-2 * accurate
        return accurate


def median_onset_counting_misses(onsets_ms: Sequence[float | None]) -> float:
    """The median onset with gestures never recognised counted as infinitely late, so a
    validation cannot look quicker by recognising fewer (inf when half or more are missed)."""
    if not onsets_ms:
        return math.inf
    return float(np.median([math.inf if v is None else v for v in onsets_ms]))


@dataclass(frozen=True)
class TrainConfig:
    steps: int                          # optimiser steps in total
    batch_size: int                     # windows per step and per process
    window: WindowSpec
    loss: LossConfig = LossConfig()
    lr: float = 2e-3
    min_lr_fraction: float = 0.05       # cosine decay ends at lr * this
    warmup_steps: int = 0
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    seed: int = 0
    eval_every: int = 200               # steps between validations + checkpoints
    keep: KeepRule = KeepRule()         # which validation best.safetensors keeps
    amp: bool = True                    # mixed precision, CUDA only

    def lr_at(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        span = max(1, self.steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / span)
        floor = self.lr * self.min_lr_fraction
        return floor + (self.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint records besides the weights (see ``save_checkpoint``)."""

    binning: Any                         # live_snn.binning.BinningConfig
    class_names: tuple[str, ...]
    training: dict                       # data set, seeds, sessions / samples ...
    readout: dict = field(default_factory=dict)


@dataclass
class TrainResult:
    step: int
    best_metric: float
    last_validation: dict
    history: list[dict]


def seed_everything_for_step(seed: int, step: int, rank: int) -> None:
    """Dropout and any other torch randomness of one step, independent of earlier steps."""
    torch.manual_seed(int(np.random.default_rng([seed, step, rank, 1]).integers(2**62)))


class Trainer:
    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig,
        train_sessions: Sequence[LabelledSession],
        val_sessions: Sequence[LabelledSession],
        streaming: StreamingConfig,
        info: CheckpointInfo,
        out_dir: str | Path,
        ctx: DistContext,
        *,
        save: Callable[..., None] | None = None,
    ):
        self.config = config
        self.ctx = ctx
        self.module = model.to(ctx.device)
        self.model: nn.Module = self.module
        if ctx.enabled:
            self.model = nn.parallel.DistributedDataParallel(
                self.module, device_ids=[ctx.local_rank] if ctx.device.type == "cuda" else None)
        self.sampler = WindowSampler(train_sessions, config.window, seed=config.seed,
                                     rank=ctx.rank,
                                     reversed_class=time_reversed_classes(info.class_names))
        self.val_sessions = list(val_sessions)
        self.streaming = streaming
        self.info = info
        self.out_dir = Path(out_dir)
        self.num_classes = len(info.class_names)
        self.optimizer = torch.optim.AdamW(self.module.parameters(), lr=config.lr,
                                           weight_decay=config.weight_decay)
        use_cuda = ctx.device.type == "cuda"
        self.amp_dtype = None
        if config.amp and use_cuda:
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        if save is None:
            from live_snn.model import save_checkpoint as save
        self._save = save
        self.step = 0
        self.best_metric = -math.inf
        self.history: list[dict] = []

    @property
    def steps_per_epoch(self) -> int:
        return self.sampler.steps_per_epoch(self.config.batch_size, self.ctx.world_size)

    # ---- main loop -------------------------------------------------------------------------
    def fit(self, *, resume: bool = False, max_steps_this_run: int | None = None) -> TrainResult:
        """Train up to ``config.steps`` (or ``max_steps_this_run`` more steps, then stop with a
        resumable checkpoint: for jobs that must fit a wall-clock slot)."""
        if resume:
            self.load_resume_state()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stop_at = self.config.steps if max_steps_this_run is None else \
            min(self.config.steps, self.step + max_steps_this_run)
        bar = tqdm(total=self.config.steps, initial=self.step, desc="train", unit="step",
                   disable=not self.ctx.is_main, dynamic_ncols=True)
        running = [0.0, 0.0, 0.0, 0.0]  # loss sum, steps, correct, counted since last eval
        recent = [0.0, 0.0, 0.0, 0.0]   # the same over the last 10 steps, for the bar
        last_validation: dict = self.history[-1] if self.history else {}
        while self.step < stop_at:
            stats = self.train_step()
            running = [a + b for a, b in zip(running, stats, strict=True)]
            recent = [a + b for a, b in zip(recent, stats, strict=True)]
            self.step += 1
            bar.update(1)
            if self.step % 10 == 0 or self.step == stop_at:
                loss_sum, n, correct, counted = all_reduce_sum(recent, self.ctx)
                recent = [0.0, 0.0, 0.0, 0.0]
                bar.set_postfix(loss=f"{loss_sum / max(n, 1):.3f}",
                                acc=f"{correct / max(counted, 1):.3f}",
                                lr=f"{self.config.lr_at(self.step):.1e}")
            if self.step % self.config.eval_every == 0 or self.step == stop_at:
                loss_sum, n, correct, counted = all_reduce_sum(running, self.ctx)
                train_stats = {"loss": loss_sum / max(n, 1),
                               "step_accuracy": correct / max(counted, 1)}
                running = [0.0, 0.0, 0.0, 0.0]
                last_validation = self.validate_and_save(train_stats)
        bar.close()
        return TrainResult(self.step, self.best_metric, last_validation, self.history)

    def train_step(self) -> list[float]:
        cfg = self.config
        seed_everything_for_step(cfg.seed, self.step, self.ctx.rank)
        for group in self.optimizer.param_groups:
            group["lr"] = cfg.lr_at(self.step)
        batch = self.sampler.batch(self.step, cfg.batch_size).to(self.ctx.device)
        self.model.train()
        autocast = (torch.autocast(device_type="cuda", dtype=self.amp_dtype)
                    if self.amp_dtype is not None else contextlib.nullcontext())
        with autocast:
            scores = self.model(batch.frames)
        out = per_step_loss(scores, batch, cfg.loss)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(out.loss).backward()
        if cfg.grad_clip:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.module.parameters(), cfg.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return [float(out.loss.detach()), 1.0, float(out.correct), float(out.counted)]

    # ---- validation and checkpoints --------------------------------------------------------
    def validate(self) -> StreamingResult:
        return streaming_evaluation(self.module, self.val_sessions, self.num_classes,
                                    self.streaming, device=self.ctx.device)

    def validate_and_save(self, train_stats: dict) -> dict:
        record: dict = {}
        if self.ctx.is_main:
            started = time.perf_counter()
            result = self.validate()
            record = {
                "step": self.step,
                "epoch": round(self.step / self.steps_per_epoch, 3),
                "train": train_stats,
                "val_streaming_accuracy": result.accuracy,
                "val_step_accuracy": result.step_accuracy,
                "val_onset_latency_ms": result.latency_ms.as_dict(),
                "val_seconds": round(time.perf_counter() - started, 2),
            }
            missed = result.latency_ms.total - result.latency_ms.detected
            metric = self.config.keep.metric(result.accuracy, result.step_accuracy,
                                             [*result.latencies_ms, *([None] * missed)])
            self.history.append(record)
            with (self.out_dir / HISTORY_FILE).open("a") as fh:
                fh.write(json.dumps(record) + "\n")
            tqdm.write(f"step {self.step}: val streaming acc {result.accuracy:.4f}, "
                       f"step acc {result.step_accuracy:.4f}, train loss "
                       f"{train_stats['loss']:.4f}")
            if metric > self.best_metric:
                self.best_metric = metric
                self.save_checkpoint(self.out_dir / BEST_FILE, record)
            self.save_checkpoint(self.out_dir / LAST_FILE, record)
            self.save_resume_state()
        barrier(self.ctx)
        return record

    def training_metadata(self) -> dict:
        cfg = self.config
        return {
            **self.info.training,
            "steps": self.step,
            "epochs": round(self.step / self.steps_per_epoch, 3),
            "steps_per_epoch": self.steps_per_epoch,
            "batch_size": cfg.batch_size,
            "world_size": self.ctx.world_size,
            "window": asdict(cfg.window),
            "keep": asdict(cfg.keep),
            "loss": {"kind": "cross-entropy on logit_scale * voting scores, per step",
                     **asdict(cfg.loss)},
            "optimizer": {"name": "AdamW", "lr": cfg.lr, "schedule": "warmup + cosine",
                          "min_lr_fraction": cfg.min_lr_fraction,
                          "warmup_steps": cfg.warmup_steps,
                          "weight_decay": cfg.weight_decay, "grad_clip": cfg.grad_clip},
            "seed": cfg.seed,
            "amp": None if self.amp_dtype is None else str(self.amp_dtype),
            "train_bins": self.sampler.total_bins,
            "train_sessions": len(self.sampler.sessions),
        }

    def save_checkpoint(self, path: Path, record: dict) -> None:
        readout = {"logit_scale": self.config.loss.logit_scale, **self.info.readout}
        self._save(path, self.module, binning=self.info.binning,
                   class_names=list(self.info.class_names),
                   training=self.training_metadata(), metrics=record, readout=readout)

    # ---- resume ----------------------------------------------------------------------------
    def save_resume_state(self) -> None:
        tensors = {f"model.{k}": v.detach().cpu().contiguous()
                   for k, v in self.module.state_dict().items()}
        opt = self.optimizer.state_dict()
        for idx, state in opt["state"].items():
            for name, value in state.items():
                tensors[f"optim.{idx}.{name}"] = torch.as_tensor(value).detach().cpu().contiguous()
        meta = {
            "step": self.step,
            "best_metric": self.best_metric,
            "history": self.history,
            "param_groups": opt["param_groups"],
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
            "config": _jsonable(asdict(self.config)),
        }
        tmp = self.out_dir / (RESUME_FILE + ".tmp")
        save_file(tensors, str(tmp), metadata={"live_snn_resume": json.dumps(meta)})
        tmp.replace(self.out_dir / RESUME_FILE)  # never leave a half-written resume file

    def load_resume_state(self) -> None:
        path = self.out_dir / RESUME_FILE
        if not path.is_file():
            raise CheckpointError(f"cannot resume: {path} does not exist (train without "
                                  "--resume first, or point --out at the earlier run)")
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as fh:
            raw = (fh.metadata() or {}).get("live_snn_resume")
        if raw is None:
            raise CheckpointError(f"cannot resume: {path} has no live_snn_resume metadata")
        meta = json.loads(raw)
        saved = meta["config"]
        # A run saved before a window option existed ran with that option's default.
        saved["window"] = {**_jsonable(asdict(WindowSpec(length=1))), "length": None,
                           **saved["window"]}
        # A run saved before --keep existed kept the most accurate validation.
        saved["keep"] = saved.get("keep", _jsonable(asdict(KeepRule())))
        for key in ("batch_size", "seed", "window", "keep"):
            if saved[key] != _jsonable(asdict(self.config))[key]:
                raise CheckpointError(f"cannot resume from {path}: it was trained with {key}="
                                      f"{saved[key]}, this run asks for "
                                      f"{_jsonable(asdict(self.config))[key]}")
        tensors = load_file(str(path), device=str(self.ctx.device))
        model_state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
        self.module.load_state_dict(model_state)
        opt_state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, idx, name = key.split(".", 2)
                opt_state.setdefault(int(idx), {})[name] = value.cpu() if name == "step" else value
        self.optimizer.load_state_dict({"state": opt_state, "param_groups": meta["param_groups"]})
        if meta.get("scaler") and self.scaler.is_enabled():
            self.scaler.load_state_dict(meta["scaler"])
        self.step = int(meta["step"])
        self.best_metric = float(meta["best_metric"])
        self.history = list(meta["history"])


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value))
