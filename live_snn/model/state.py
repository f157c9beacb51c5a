"""What a streaming model carries from one bin to the next, and what it shows of each step.

:class:`ModelState` holds every LIF membrane and every attention history of one model, for
B independent streams: each tensor has the batch first, so row b is stream b and rows never
mix. Every tensor starts at zero, so resetting a stream is zeroing its row. A state is never
modified in place by the model (``step`` returns a new one), so keeping a reference is a
valid snapshot as long as the caller does not modify it; :meth:`ModelState.clone` gives an
independent copy.

:class:`StepTaps` is what the GUI draws: per attention layer the gate and its two branches,
per spiking layer the fraction of neurons that fired.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from live_snn.taps import ATTENTION_PARTS


@dataclass
class ModelState:
    """``layers[module_name][tensor_name]`` -> Tensor ``[B, ...]`` (see ``model.init_state``)."""

    layers: dict[str, dict[str, Tensor]]

    def _map(self, fn: Callable[[Tensor], Tensor]) -> ModelState:
        return ModelState({name: {key: fn(t) for key, t in tensors.items()}
                           for name, tensors in self.layers.items()})

    def tensors(self) -> list[Tensor]:
        return [t for tensors in self.layers.values() for t in tensors.values()]

    def _first(self) -> Tensor | None:
        for tensors in self.layers.values():
            for t in tensors.values():
                return t
        return None

    @property
    def batch_size(self) -> int:
        first = self._first()
        return 0 if first is None else int(first.shape[0])

    @property
    def device(self) -> torch.device:
        first = self._first()
        return torch.device("cpu") if first is None else first.device

    @property
    def nbytes(self) -> int:
        """Memory one snapshot of this state takes."""
        return sum(t.numel() * t.element_size() for t in self.tensors())

    def clone(self) -> ModelState:
        return self._map(lambda t: t.detach().clone())

    def to(self, device: torch.device | str) -> ModelState:
        return self._map(lambda t: t.to(device))

    def detach(self) -> ModelState:
        """Cut the autograd history (truncated back-propagation through time)."""
        return self._map(lambda t: t.detach())

    def reset_rows(self, rows: Tensor | Sequence[bool] | Sequence[int]) -> ModelState:
        """A copy with the given streams back at their initial (zero) state.

        ``rows``: a bool mask of length B, or row indices."""
        mask = _row_mask(rows, self.batch_size, self.device)

        def reset(t: Tensor) -> Tensor:  # where(), not a product: a NaN row resets too
            return torch.where(mask.view(-1, *([1] * (t.dim() - 1))), torch.zeros((), dtype=t.dtype,
                               device=t.device), t)

        return self._map(reset)

    def select_rows(self, rows: Tensor | Sequence[int]) -> ModelState:
        """The state of some streams only (e.g. when a camera of a batch goes away)."""
        index = torch.as_tensor(rows, dtype=torch.long, device=self.device)
        return self._map(lambda t: t.index_select(0, index))

    def split_rows(self) -> list[ModelState]:
        """One single-stream state per row: views of this state's tensors, no copy (keep
        them and the whole batch stays alive; the model never writes into a state)."""
        return [self._map(lambda t, b=b: t[b:b + 1]) for b in range(self.batch_size)]

    @staticmethod
    def stack_rows(states: Sequence[ModelState]) -> ModelState:
        """The streams of ``states`` as the rows of one batch, in that order (one copy;
        channels-last tensors stay channels-last)."""
        if not states:
            raise ValueError("stack_rows needs at least one state")
        first = states[0]
        return ModelState({name: {key: torch.cat([s.layers[name][key] for s in states])
                                  for key in tensors}
                           for name, tensors in first.layers.items()})

    def where_rows(self, mask: Tensor, other: ModelState) -> ModelState:
        """Row b from this state where ``mask[b]``, from ``other`` elsewhere (``mask``: bool
        ``[B]`` on this state's device). Used to step only some streams of a fixed batch."""

        def pick(t: Tensor, o: Tensor) -> Tensor:
            return torch.where(mask.view(-1, *([1] * (t.dim() - 1))), t, o)

        return ModelState({name: {key: pick(t, other.layers[name][key])
                                  for key, t in tensors.items()}
                           for name, tensors in self.layers.items()})


def feature_map_zeros(batch_size: int, channels: int, spatial: tuple[int, int],
                      device: torch.device | str, dtype: torch.dtype) -> Tensor:
    """A zero ``[B, C, H, W]`` state in channels-last layout, the layout the blocks compute in:
    on CPU its convolutions are 1.5-3× faster and its max-pool some 30× faster than NCHW's,
    and a membrane in the layout of its input keeps every update a plain pass over memory."""
    return torch.zeros(batch_size, channels, *spatial, device=device, dtype=dtype).contiguous(
        memory_format=torch.channels_last)


def _row_mask(rows: Tensor | Sequence[bool] | Sequence[int], batch_size: int,
              device: torch.device) -> Tensor:
    rows_t = torch.as_tensor(rows, device=device)
    if rows_t.dtype == torch.bool:
        if rows_t.shape != (batch_size,):
            raise ValueError(f"row mask has shape {tuple(rows_t.shape)}, expected ({batch_size},)")
        return rows_t
    rows_t = rows_t.long().reshape(-1)
    if rows_t.numel() and (int(rows_t.min()) < -batch_size or int(rows_t.max()) >= batch_size):
        raise IndexError(f"row indices {rows_t.tolist()} out of range for batch size {batch_size}")
    mask = torch.zeros(batch_size, dtype=torch.bool, device=device)
    mask[rows_t] = True
    return mask


def clone_state(state: ModelState) -> ModelState:
    """An independent copy of ``state`` (for seek snapshots)."""
    return state.clone()


def reset_rows(state: ModelState, rows: Tensor | Sequence[bool] | Sequence[int]) -> ModelState:
    """``state`` with the streams ``rows`` reset (see :meth:`ModelState.reset_rows`)."""
    return state.reset_rows(rows)


@dataclass(frozen=True)
class AttentionTap:
    """One attention layer at one step: gate and branches, each ``[B, C]``.

    From ``model(x, return_taps=True)`` each tensor has a leading time axis: ``[T, B, C]``.
    What the three are depends on the layer kind:

    * TCJA (window / causal): ``gate`` = M = sigmoid(A ⊙ B), ``branch_a`` = A (temporal
      branch), ``branch_b`` = B (channel branch).
    * GAC: ``gate`` = spatial mean of sigmoid(TA ⊙ SCA), ``branch_a`` = TA (one value per
      stream, repeated over channels), ``branch_b`` = spatial mean of SCA.
    * TIM: ``gate`` = spatial mean of the mix x̃_t fed to the output neurons, ``branch_a`` =
      spatial mean of the recurrent branch's spikes, ``branch_b`` = spatial mean of q_t.
    """

    gate: Tensor
    branch_a: Tensor
    branch_b: Tensor

    def map(self, fn: Callable[[Tensor], Tensor]) -> AttentionTap:
        return AttentionTap(fn(self.gate), fn(self.branch_a), fn(self.branch_b))


@dataclass(frozen=True)
class StepTaps:
    """What the model shows of one step (``step``) or of every step (``forward``).

    ``attention``: layer name -> :class:`AttentionTap`; ``spike_rates``: spiking layer name
    -> ``[B]`` fraction of that layer's neurons that fired (``[T, B]`` from ``forward``).
    Names are module paths in the network, in the order data meets them."""

    attention: dict[str, AttentionTap]
    spike_rates: dict[str, Tensor]

    def map(self, fn: Callable[[Tensor], Tensor]) -> StepTaps:
        return StepTaps({k: tap.map(fn) for k, tap in self.attention.items()},
                        {k: fn(v) for k, v in self.spike_rates.items()})

    def at(self, t: int) -> StepTaps:
        """Step ``t`` of taps returned by ``forward`` (e.g. ``-1``: the newest step of a window)."""
        return self.map(lambda x: x[t])

    def to_numpy(self, row: int = 0) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, float]]:
        """Batch row ``row`` of single-step taps as NumPy, with one device->host copy:
        (layer -> {"gate", "branch_a", "branch_b"} -> float32 [C], layer -> fraction fired)."""
        parts = [getattr(tap, p)[row].reshape(-1) for tap in self.attention.values()
                 for p in ATTENTION_PARTS]
        rates = [r[row].reshape(1) for r in self.spike_rates.values()]
        if not parts and not rates:
            return {}, {}
        flat = torch.cat([t.detach().float() for t in parts + rates]).cpu().numpy()
        attention: dict[str, dict[str, np.ndarray]] = {}
        offset = 0
        for name, tap in self.attention.items():
            attention[name] = {}
            for p in ATTENTION_PARTS:
                n = getattr(tap, p)[row].numel()
                attention[name][p] = flat[offset:offset + n]
                offset += n
        spike_rates = {name: float(flat[offset + i]) for i, name in enumerate(self.spike_rates)}
        return attention, spike_rates
