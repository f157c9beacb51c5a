"""The fine-tune's network: the base model with a readout for the taught classes
(:func:`model_for`), split at a block into the frozen trunk and the trained tail
(:class:`Trunk`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

import torch
from torch import Tensor, nn

from live_snn.model import LoadedCheckpoint, build_model
from live_snn.teach.finetune_config import FineTuneCancelled, FineTuneConfig


def model_for(loaded: LoadedCheckpoint, class_names: tuple[str, ...]) -> nn.Module:
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


def trained_parts(model: nn.Module, split_at: int) -> list[str]:
    return [f"blocks.{i}" for i in range(split_at, model.config.num_blocks)] + \
        ["fc_hidden", "fc_out"]


class Trunk:
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
