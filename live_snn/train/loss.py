"""Per-step loss on the voting scores.

Scores are mean spike counts of each class's group of output neurons, in [0, 1], read live
as ``softmax(logit_scale * scores)``. Two losses, at every labelled step after burn-in and
grace:

* ``mse`` (default, as in the TCJA paper): mean squared error to the one-hot target. While
  the output layer is still silent (a fresh network), only the target group gets a gradient,
  all pushing it to fire, so training starts; with cross-entropy the pushes up and down
  cancel and a silent network can stay silent for hundreds of steps.
* ``ce``: cross-entropy on ``logit_scale * scores`` (calibrated probabilities, once the
  network fires).

Rest steps (no gesture) are pulled towards "no class" with weight ``rest_weight``: silence
(all scores 0) for ``mse``, an even split for ``ce``. Either way the live display shows low
confidence when nothing happens instead of holding on to the last gesture.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from live_snn.train.windows import WindowBatch


@dataclass(frozen=True)
class LossConfig:
    kind: str = "mse"            # "mse" | "ce"
    logit_scale: float = 10.0
    rest_weight: float = 0.1

    def __post_init__(self) -> None:
        if self.kind not in ("mse", "ce"):
            raise ValueError(f"loss kind must be 'mse' or 'ce', got {self.kind!r}")


@dataclass
class LossOutput:
    loss: torch.Tensor        # scalar, differentiable
    class_loss: float
    rest_loss: float
    correct: int              # labelled loss steps whose argmax is right
    counted: int              # labelled loss steps


def per_step_loss(scores: torch.Tensor, batch: WindowBatch, config: LossConfig) -> LossOutput:
    """``scores`` [T, B, K] from ``model(batch.frames)``."""
    if scores.shape[:2] != batch.targets.shape:
        raise ValueError(f"scores {tuple(scores.shape)} do not match targets "
                         f"{tuple(batch.targets.shape)} in [T, B]")
    logits = config.logit_scale * scores.float()
    zero = logits.sum() * 0.0  # keeps the graph (and DDP's reducer) intact on empty masks
    class_loss = zero
    correct = counted = 0
    if batch.loss_mask.any():
        picked = logits[batch.loss_mask]
        targets = batch.targets[batch.loss_mask]
        if config.kind == "ce":
            class_loss = F.cross_entropy(picked, targets)
        else:
            one_hot = F.one_hot(targets, picked.shape[1]).to(picked.dtype)
            class_loss = F.mse_loss(scores.float()[batch.loss_mask], one_hot)
        correct = int((picked.argmax(dim=1) == targets).sum())
        counted = int(targets.numel())
    rest_loss = zero
    if config.rest_weight > 0 and batch.rest_mask.any():
        if config.kind == "ce":
            rest_loss = -F.log_softmax(logits[batch.rest_mask], dim=1).mean()
        else:
            rest_loss = scores.float()[batch.rest_mask].pow(2).mean()
    loss = class_loss + config.rest_weight * rest_loss
    return LossOutput(loss, float(class_loss.detach()), float(rest_loss.detach()), correct, counted)
