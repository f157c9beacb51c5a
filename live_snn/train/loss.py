"""Per-step loss on the voting scores.

Scores are mean spike counts of each class's group of output neurons, in [0, 1]. The live
path reads them as ``softmax(logit_scale * scores)``, so training uses exactly that:
cross-entropy on ``logit_scale * scores`` at every labelled step after burn-in and grace.
Rest steps (no gesture) are pulled towards an even split between classes with weight
``rest_weight``, so the model shows low confidence when nothing is happening instead of
holding on to the last gesture.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from live_snn.train.windows import WindowBatch


@dataclass(frozen=True)
class LossConfig:
    logit_scale: float = 10.0
    rest_weight: float = 0.1


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
        class_loss = F.cross_entropy(picked, targets)
        correct = int((picked.argmax(dim=1) == targets).sum())
        counted = int(targets.numel())
    rest_loss = zero
    if config.rest_weight > 0 and batch.rest_mask.any():
        rest_loss = -F.log_softmax(logits[batch.rest_mask], dim=1).mean()
    loss = class_loss + config.rest_weight * rest_loss
    return LossOutput(loss, float(class_loss.detach()), float(rest_loss.detach()), correct, counted)
