"""The fine-tune's training loop (:class:`Tuner`): the tail trained on windows of cached
trunk features, validated by streaming the held-out takes, the best validation kept.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor, nn

from live_snn.teach.finetune_config import FineTuneCancelled, FineTuneConfig, FineTuneError
from live_snn.teach.trunk import Trunk
from live_snn.train.evaluate import StreamingConfig, score_streams
from live_snn.train.loss import per_step_loss
from live_snn.train.windows import WindowBatch


class Tuner:
    def __init__(self, model, trunk: Trunk, config: FineTuneConfig,
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
    def val_scores(self) -> list[np.ndarray]:
        """The network's per-step scores on every held-out take (``[N, K]`` each)."""
        self.trunk.set_mode(False)
        return [self.trunk.tail(f[:, None]).squeeze(1).numpy() for _, f in self.val]

    @torch.no_grad()
    def validate(self, step: int, loss: float) -> dict:
        record: dict = {"step": step, "train_loss": round(loss, 5)}
        if not self.val:
            self._best_state = None
            self.best = {"accuracy": None, "step_accuracy": None, "step": step}
            return {**record, "val_streaming_accuracy": None}
        scores = self.val_scores()
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
