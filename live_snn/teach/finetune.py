"""Fine-tuning a trained model on taught sessions, in minutes on a laptop CPU.

The recipe, set by the measurements in docs/benchmarks.md (``scripts/teach_acceptance.sh``):

* The convolutional trunk is kept as it is (eval mode, BatchNorm statistics included) up to
  block ``first_trained_block``; everything after it — by default only the two fully
  connected layers of the head — is trained. The trunk holds almost all of the compute, so
  each take is passed through it **once** (streamed with carried state, as live) and its
  outputs are cached; training windows then run only the trained part. A pass per window
  through the whole network would cost ~50× more.
* Classes the base model knows keep their readout rows; new names get new ones. The trunk
  and the hidden layer start as the base's.
* One take per class (``holdout_per_class``) is held out; each is scored by streaming the
  trained part over it and the live predictor, as ``live-snn eval`` scores. The best
  validation is kept.

Progress (stage, done, total, ETA) goes to ``on_progress``; ``cancel`` stops between steps.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from live_snn.errors import CheckpointMismatchError, LiveSnnError
from live_snn.model import LoadedCheckpoint, build_model, load_checkpoint, save_checkpoint
from live_snn.outputs import check_outputs, named
from live_snn.sinks.teach_folder import (
    LABELS_FILE,
    META_FILE,
    read_teach_folder,
    union_class_names,
)
from live_snn.train.evaluate import StreamingConfig, score_streams
from live_snn.train.loaders.teach import TakeClip, take_clips
from live_snn.train.loss import LossConfig, per_step_loss
from live_snn.train.report import default_streaming_config
from live_snn.train.windows import WindowBatch


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


def load_base(path: str | Path | None) -> LoadedCheckpoint:
    """The base model (None or "default": the bundled one), refused unless it has the
    bundled model's binning, which the recipe's window lengths and timings are set for."""
    from live_snn.engine.session import default_model_path

    bundled_path = default_model_path()
    use_bundled = path is None or str(path) == "default"
    base = load_checkpoint(bundled_path if use_bundled else path)
    bundled = base if use_bundled else load_checkpoint(bundled_path)
    problems = []
    if base.binning.dt_us != bundled.binning.dt_us:
        problems.append(f"bins of {base.binning.dt_us / 1000:g} ms, not "
                        f"{bundled.binning.dt_us / 1000:g} ms")
    if base.binning.model != bundled.binning.model:
        problems.append(f"a {base.binning.model} input, not {bundled.binning.model}")
    if not base.model.streams_by_step:
        problems.append("window-mode attention (it cannot stream one bin at a time)")
    if problems:
        raise CheckpointMismatchError(
            f"cannot teach from {path}: it has {' and '.join(problems)}; teach train starts "
            "from the bundled model or a checkpoint with its binning")
    return base


def fine_tune(folders: Sequence[str | Path], out: str | Path, *,
              base: str | Path | None = None, config: FineTuneConfig = FineTuneConfig(),
              on_progress: ProgressCallback | None = None,
              cancel: threading.Event | None = None) -> FineTuneResult:
    started = time.perf_counter()
    report = _Reporter(on_progress, started)
    report("reading", 0, 1)
    paths = [Path(f).expanduser() for f in folders]
    if not paths:
        raise FineTuneError("give at least one taught session folder")
    checked = [read_teach_folder(p) for p in paths]   # one clear line before any decoding
    class_names = union_class_names(checked)
    _check_takes(checked, class_names)
    _check_out(out, base, checked)
    loaded = load_base(base)
    torch.manual_seed(config.seed)
    model = _model_for(loaded, class_names)
    clips = take_clips(paths, loaded.binning, class_names,
                       before_us=int(config.before_s * 1e6), after_us=int(config.after_s * 1e6))
    train, val = _split(clips, len(class_names), config)
    split_at = model.config.num_blocks if config.first_trained_block is None \
        else config.first_trained_block
    if not 0 <= split_at <= model.config.num_blocks:
        raise FineTuneError(f"first_trained_block must be 0..{model.config.num_blocks}")
    trunk = _Trunk(model, split_at)
    report.begin_trunk(sum(len(c.session) for c in clips), trunk.estimate_step_s(config),
                       config.steps)
    features = trunk.features([c.session for c in clips], config.feature_batch,
                              lambda n: report.trunk_done(n), cancel)
    by_clip = dict(zip(map(id, clips), features, strict=True))
    streaming = default_streaming_config(loaded.readout, loaded.binning.dt_us)
    tuner = _Tuner(model, trunk, config, streaming,
                   [(c.session, by_clip[id(c)]) for c in train],
                   [(c.session, by_clip[id(c)]) for c in val])
    history = tuner.fit(lambda step, acc: report.training(step, config.steps, acc), cancel)
    seconds = time.perf_counter() - started
    sensors = {c.sensor for c in clips}
    binning = loaded.binning.for_sensor(sensors.pop()) if len(sensors) == 1 else loaded.binning
    best = tuner.best
    training = {
        "dataset": "teach", "folders": [str(p) for p in paths],
        "takes_per_class": {n: sum(c.class_index == i for c in clips)
                            for i, n in enumerate(class_names)},
        "train_takes": len(train), "val_takes": len(val),
        "val_takes_list": [f"{c.folder.name}/take{c.take + 1}" for c in val],
        "fine_tune": {**asdict(config), "loss": asdict(config.loss),
                      "trained": _trained_parts(model, split_at)},
        "steps": config.steps, "seconds": round(seconds, 1), "threads": torch.get_num_threads(),
        "init_from": {"path": str(loaded.path), "sha256": loaded.sha256,
                      "class_names": list(loaded.class_names),
                      "steps": loaded.training.get("steps"), "data": loaded.training.get("dataset"),
                      "init_from": loaded.training.get("init_from")},
    }
    metrics = {"val_streaming_accuracy": best["accuracy"], "val_step_accuracy":
               best["step_accuracy"], "step": best["step"], "history": history}
    out = save_checkpoint(out, model, binning=binning, class_names=class_names,
                          training=training, metrics=metrics, readout=loaded.readout)
    report("done", 1, 1, best["accuracy"])
    return FineTuneResult(out, class_names, best["accuracy"], len(val), len(train), seconds,
                          loaded.sha256, history)


# ---- data ------------------------------------------------------------------------------------
def _check_out(out: str | Path, base: str | Path | None, folders) -> None:
    """Before any work: the checkpoint goes to a new or checkpoint file in an existing,
    writable folder, never over the base model or a part of a taught session."""
    from live_snn.engine.session import default_model_path

    base_path = default_model_path() if base is None or str(base) == "default" else base
    parts = [named(f"{f.path.name}/{p.name}", p) for f in folders for p in
             (f.recording, f.path / LABELS_FILE, f.path / META_FILE)]
    check_outputs([named("the fine-tuned model", out)],
                  inputs=[named("the base model", base_path), *parts])


def _check_takes(folders, class_names: tuple[str, ...]) -> None:
    counts = dict.fromkeys(class_names, 0)
    for folder in folders:
        for name, n in folder.takes_per_class().items():
            counts[name] += n
    empty = [n for n, k in counts.items() if k == 0]
    if empty:
        raise FineTuneError(
            f"class{'es' if len(empty) > 1 else ''} {', '.join(map(repr, empty))} "
            f"{'have' if len(empty) > 1 else 'has'} no takes in "
            f"{', '.join(str(f.path) for f in folders)}: record some, or leave "
            f"{'them' if len(empty) > 1 else 'it'} out of the session")


def _split(clips: list[TakeClip], n_classes: int, config: FineTuneConfig
           ) -> tuple[list[TakeClip], list[TakeClip]]:
    """Hold out ``holdout_per_class`` takes of every class that has more than that (drawn
    with the seed), so every class is both trained on and validated."""
    rng = np.random.default_rng(config.seed)
    val: set[int] = set()
    for label in range(n_classes):
        own = [i for i, c in enumerate(clips) if c.class_index == label]
        if len(own) > config.holdout_per_class:
            val.update(int(i) for i in rng.choice(own, config.holdout_per_class, replace=False))
    return ([c for i, c in enumerate(clips) if i not in val],
            [c for i, c in enumerate(clips) if i in val])


# ---- the model -------------------------------------------------------------------------------
def _model_for(loaded: LoadedCheckpoint, class_names: tuple[str, ...]) -> nn.Module:
    """The base network with a readout for ``class_names``: rows of known classes copied,
    new classes' rows freshly initialised."""
    config = replace(loaded.config, num_classes=len(class_names))
    model = build_model(config)
    state = {k: v for k, v in loaded.model.state_dict().items() if k != "fc_out.weight"}
    model.load_state_dict(state, strict=False)
    voters = config.voting
    old = loaded.model.fc_out.weight.detach()
    known = {name.lower(): i for i, name in enumerate(loaded.class_names)}
    with torch.no_grad():
        for k, name in enumerate(class_names):
            j = known.get(name.lower())
            if j is not None:
                model.fc_out.weight[k * voters:(k + 1) * voters] = old[j * voters:(j + 1) * voters]
    return model


def _trained_parts(model: nn.Module, split_at: int) -> list[str]:
    return [f"blocks.{i}" for i in range(split_at, model.config.num_blocks)] + \
        ["fc_hidden", "fc_out"]


class _Trunk:
    """The network split at a block: ``features`` streams the frozen part over whole clips
    once; ``tail`` runs the trained part (and the head) on windows of those features."""

    def __init__(self, model: nn.Module, split_at: int):
        self.model = model
        self.split_at = split_at
        self.frozen = list(model.blocks[:split_at])
        self.trained = list(model.blocks[split_at:])
        for block in self.frozen:
            block.requires_grad_(False)

    def parameters(self) -> list[nn.Parameter]:
        params = [p for b in self.trained for p in b.parameters()]
        return params + list(self.model.fc_hidden.parameters()) + \
            list(self.model.fc_out.parameters())

    def set_mode(self, training: bool) -> None:
        """Dropout trains; BatchNorm keeps the base's statistics (a few takes are far too
        few to re-estimate them)."""
        self.model.train(training)
        for module in self.model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()

    @torch.no_grad()
    def features(self, sessions, batch: int, done: Callable[[int], None],
                 cancel: threading.Event | None, chunk: int = 25) -> list[Tensor]:
        self.set_mode(False)
        out: list[Tensor] = []
        for first in range(0, len(sessions), batch):
            group = sessions[first:first + batch]
            longest = max(len(s) for s in group)
            frames = torch.zeros((longest, len(group), *group[0].frame_shape), dtype=torch.uint8)
            for b, s in enumerate(group):
                frames[:len(s), b] = s.frames
            states = [blk.init_state(len(group), torch.device("cpu"), torch.float32)
                      for blk in self.frozen]
            parts = []
            for t in range(0, longest, chunk):
                if cancel is not None and cancel.is_set():
                    raise FineTuneCancelled("fine-tuning cancelled")
                x = frames[t:t + chunk].float()
                for i, block in enumerate(self.frozen):
                    x, states[i], _, _ = block.run(x, states[i], seq=True, taps=False)
                parts.append(x.to(torch.float16))
                done(x.shape[0] * len(group))
            stacked = torch.cat(parts) if parts else frames.float()
            out.extend(stacked[:len(s), b].contiguous() for b, s in enumerate(group))
        return out

    def tail(self, x: Tensor) -> Tensor:
        """``x`` [T, B, ...] trunk features from a zero state of the trained part ->
        voting scores [T, B, K]."""
        model = self.model
        x = x.float()
        batch = x.shape[1]
        for block in self.trained:
            state = block.init_state(batch, x.device, x.dtype)
            x, _, _, _ = block.run(x, state, seq=True, taps=False)
        x = model.dropout_flat(x.flatten(-3))
        zeros = x.new_zeros((batch, model.config.hidden))
        s_hidden, _ = model.lif_hidden(model.fc_hidden(x), zeros)
        out = model.fc_out(model.dropout_hidden(s_hidden))
        s_out, _ = model.lif_out(out, out.new_zeros(out.shape[1:]))
        return model.voting(s_out)

    def estimate_step_s(self, config: FineTuneConfig) -> float:
        """Time of one training step, measured on zeros (for the first ETA)."""
        self.set_mode(True)  # BatchNorm in eval mode: the probe must not move its statistics
        with torch.no_grad():
            probe = torch.zeros((1, 1, 2, *self.model.config.input_size))
            for block in self.frozen:
                probe, _, _, _ = block.run(probe, block.init_state(1, probe.device, probe.dtype),
                                           seq=True, taps=False)
        x = torch.zeros((config.window, config.batch_size, *probe.shape[2:]))
        started = time.perf_counter()
        self.tail(x).sum().backward()
        self.model.zero_grad(set_to_none=True)
        return time.perf_counter() - started


class _Tuner:
    def __init__(self, model, trunk: _Trunk, config: FineTuneConfig,
                 streaming: StreamingConfig, train, val):
        if not train:
            raise FineTuneError("no takes left to train on")
        self.model, self.trunk, self.config, self.streaming = model, trunk, config, streaming
        self.train, self.val = train, val
        self.grace = streaming.grace_bins
        self.optimizer = torch.optim.AdamW(trunk.parameters(), lr=config.lr,
                                           weight_decay=config.weight_decay)
        self.best = {"accuracy": None, "step_accuracy": None, "step": 0}
        self._best_state: dict | None = None

    def fit(self, on_step: Callable[[int, float | None], None],
            cancel: threading.Event | None) -> list[dict]:
        cfg = self.config
        history: list[dict] = []
        rng = np.random.default_rng([cfg.seed, 1])
        for step in range(1, cfg.steps + 1):
            if cancel is not None and cancel.is_set():
                raise FineTuneCancelled("fine-tuning cancelled")
            lr = cfg.lr * 0.5 * (1 + math.cos(math.pi * (step - 1) / cfg.steps))
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            self.trunk.set_mode(True)
            batch, features = self._windows(rng)
            out = per_step_loss(self.trunk.tail(features), batch, cfg.loss)
            self.optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            nn.utils.clip_grad_norm_(self.trunk.parameters(), 1.0)
            self.optimizer.step()
            accuracy = None
            if step % cfg.eval_every == 0 or step == cfg.steps:
                record = self.validate(step, float(out.loss.detach()))
                history.append(record)
                accuracy = record["val_streaming_accuracy"]
            on_step(step, accuracy)
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state)
        self.model.eval()
        return history

    def _windows(self, rng: np.random.Generator) -> tuple[WindowBatch, Tensor]:
        cfg = self.config
        length = cfg.window
        picks = rng.integers(0, len(self.train), size=cfg.batch_size)
        feats, targets, since = [], [], []
        for i in picks:  # over the batch
            session, features = self.train[int(i)]
            n = len(session)
            off = int(rng.integers(0, max(n - length, 0) + 1))
            span = slice(off, off + length)
            pad = length - min(length, n - off)
            f, lab, s = features[span], session.labels[span], session.since_onset[span]
            if pad:  # a clip shorter than a window: empty, unlabelled bins in front
                f = torch.cat([f.new_zeros((pad, *f.shape[1:])), f])
                lab = torch.cat([lab.new_full((pad,), -1), lab])
                s = torch.cat([s.new_full((pad,), -1), s])
            feats.append(f)
            targets.append(lab)
            since.append(s)
        x = torch.stack(feats, dim=1)
        t = torch.stack(targets, dim=1)
        after_burn_in = (torch.arange(length) >= cfg.burn_in)[:, None]
        loss_mask = after_burn_in & (t >= 0) & (torch.stack(since, dim=1) >= self.grace)
        rest_mask = after_burn_in & (t < 0)
        return WindowBatch(x, t, loss_mask, rest_mask), x

    @torch.no_grad()
    def validate(self, step: int, loss: float) -> dict:
        record: dict = {"step": step, "train_loss": round(loss, 5)}
        if not self.val:
            self._best_state = None
            self.best = {"accuracy": None, "step_accuracy": None, "step": step}
            return {**record, "val_streaming_accuracy": None}
        self.trunk.set_mode(False)
        scores = [self.trunk.tail(f[:, None]).squeeze(1).numpy() for _, f in self.val]
        result = score_streams(scores, [s for s, _ in self.val], self.model.config.num_classes,
                               self.streaming)
        record.update(val_streaming_accuracy=result.accuracy,
                      val_step_accuracy=result.step_accuracy)
        metric = result.accuracy + 1e-3 * result.step_accuracy
        best = self.best["accuracy"]
        if best is None or metric >= best + 1e-3 * self.best["step_accuracy"]:
            self.best = {"accuracy": result.accuracy, "step_accuracy": result.step_accuracy,
                         "step": step}
            self._best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        return record


class _Reporter:
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
