"""The model side of a multi-stream engine: one model for every stream, one row of network
state per stream, and one call that steps the streams that have a new bin.

Stream k of the engine owns row k for the whole session. :meth:`BatchedRunner.step` takes
the rows that have a bin (any subset, in any order) with their frames, advances them with
one ``model.step`` on a batch, and returns their scores and taps; the state of every other
row is not touched, so a stream that waits, drops or reconnects costs the others nothing.
:meth:`~BatchedRunner.reset_row` puts one stream back at its initial state,
:meth:`~BatchedRunner.release_row` lets go of an ended stream's state.

Two ways to step a subset, both ``model.step`` on a batch of rows:

* **stacked rows** (CPU, or a GPU without graphs): each row's state is kept as a single-row
  state; the rows that step are stacked into one batch (one copy of their state), stepped,
  and the new state is split back into single-row views (no copy). A lone stream steps on
  its own state. The work is proportional to the rows that step. Rows step in ascending
  order, and the batch state of the last call is kept: when the same rows step again (the
  usual case once the engine gathers the cameras' bins into one call) it is stepped as it
  is, without the copy (about 11 MB for 8 ``lite`` rows).
* **masked CUDA graph**: the whole batch is captured once as a graph
  (:class:`~live_snn.model.cuda_graph.MaskedCudaGraphStep`); every replay steps all rows
  and keeps the old state of the rows whose mask is off. On a GPU a batch of rows costs about
  what one row costs, and one replay replaces dozens of kernel launches.

The frames of the stepping rows are written into a preallocated ``[rows, 2, H, W]`` input
(each stream's slot; page-locked on a GPU, for one asynchronous copy per step).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from live_snn.engine import host_memory
from live_snn.engine.ring_buffer import frame_tensor
from live_snn.engine.runner import inference_model
from live_snn.errors import LiveSnnError
from live_snn.model import LoadedCheckpoint, ModelState


@dataclass
class BatchStepResult:
    scores: np.ndarray                                   # float32 [k, K], rows as asked
    attention: list[dict[str, dict[str, np.ndarray]]]    # per row: layer -> part -> [C]
    spike_rates: list[dict[str, float]]                  # per row (empty without taps)
    step_ms: float                                       # the batched call, incl. copies


class BatchedRunner:
    """Owns the shared model and every stream's state; used only from the engine thread."""

    def __init__(self, checkpoint: LoadedCheckpoint, device: torch.device, *, rows: int,
                 cuda_graph: bool = True, keep_freed_memory: bool = False,
                 conv_dtype: str = "float32"):
        if rows < 1:
            raise ValueError(f"a batched runner needs at least one row, got {rows}")
        self.checkpoint = checkpoint
        self.device = device
        self.rows = rows
        self.model = inference_model(checkpoint, device, conv_dtype)
        if keep_freed_memory and device.type == "cpu":
            host_memory.keep_freed_memory()
        if not self.model.streams_by_step:
            raise LiveSnnError(
                "several streams need a streaming model: this one re-runs a "
                f"{checkpoint.config.T}-frame window per bin (attention='window'); run each "
                "source on its own, or use a causal model")
        config = checkpoint.config
        self.frame_shape = (config.in_channels, *config.input_size)
        graph = cuda_graph and device.type == "cuda"
        self._staging = torch.zeros((rows, *self.frame_shape), dtype=torch.float32,
                                    pin_memory=device.type == "cuda")
        self._graph = None
        self._states: list[ModelState | None] = []
        if graph:
            from live_snn.model.cuda_graph import MaskedCudaGraphStep

            self._graph = MaskedCudaGraphStep(self.model, rows)
            self._mask = torch.zeros(rows, dtype=torch.bool, pin_memory=True)
        else:
            self._states = [self._zero_row() for _ in range(rows)]
            self._warm_up()
        self._last_batch: tuple[tuple[int, ...], ModelState] | None = None  # rows, state

    @torch.inference_mode()
    def _warm_up(self) -> None:
        """One step of every batch size on zeros, on scratch states (no row is touched), before
        any stream is read: the first call of each size creates its oneDNN kernels and
        first-touches its memory, costs that would otherwise fall on the first bins of the
        cameras (with 8 streams some sessions started with a second or two of bins 80-100 ms
        late)."""
        for k in range(1, self.rows + 1):
            x = torch.zeros((k, *self.frame_shape), device=self.device)
            self.model.step(x, self.model.init_state(batch_size=k, device=self.device))

    @property
    def num_classes(self) -> int:
        return int(self.model.num_classes)

    @property
    def graphed(self) -> bool:
        return self._graph is not None

    def _zero_row(self) -> ModelState:
        return self.model.init_state(batch_size=1, device=self.device)

    def _check_row(self, row: int) -> None:
        if not 0 <= row < self.rows:
            raise IndexError(f"row {row} out of range: this runner has {self.rows} rows")

    def reset_row(self, row: int) -> None:
        """Stream ``row`` back at its initial (zero) state; the other rows are untouched."""
        self._check_row(row)
        if self._graph is not None:
            self._graph.reset_rows([row])
        else:
            self._states[row] = self._zero_row()
            self._forget_batch(row)

    def release_row(self, row: int) -> None:
        """Stream ``row`` has ended: its state is dropped (zeroed in a captured graph) and
        it must not step again."""
        self._check_row(row)
        if self._graph is not None:
            self._graph.reset_rows([row])
        else:
            self._states[row] = None
            self._forget_batch(row)

    def _forget_batch(self, row: int) -> None:
        if self._last_batch is not None and row in self._last_batch[0]:
            self._last_batch = None

    def row_state(self, row: int) -> ModelState:
        """A copy of stream ``row``'s state (for tests and inspection)."""
        self._check_row(row)
        if self._graph is not None:
            return self._graph.state.select_rows([row]).clone()
        state = self._states[row]
        if state is None:
            raise LiveSnnError(f"row {row} was released: its stream has ended")
        return state.clone()

    @torch.inference_mode()
    def step(self, rows: Sequence[int], frames: Sequence[np.ndarray | torch.Tensor], *,
             taps: bool = False) -> BatchStepResult:
        """Advance streams ``rows`` by one bin each, ``frames[i]`` being row ``rows[i]``'s
        ``[2, H, W]`` counts; every other row keeps its state."""
        if len(rows) != len(frames) or not rows:
            raise ValueError(f"step needs one frame per row, got {len(rows)} rows and "
                             f"{len(frames)} frames")
        if len(set(rows)) != len(rows):
            raise ValueError(f"a row steps at most once per call, got rows {list(rows)}")
        start = time.perf_counter()
        if self._graph is not None:
            scores, step_taps, at = self._graph_step(rows, frames)
        else:
            scores, step_taps, at = self._stacked_step(rows, frames)
        attention: list[dict[str, dict[str, np.ndarray]]] = []
        spike_rates: list[dict[str, float]] = []
        for i in range(len(rows)):
            parts, rates = step_taps.to_numpy(at[i]) if taps else ({}, {})
            attention.append(parts)
            spike_rates.append(rates)
        scores_np = scores.detach().float().cpu().numpy()[at]
        return BatchStepResult(scores_np, attention, spike_rates,
                               (time.perf_counter() - start) * 1e3)

    def _stacked_step(self, rows: Sequence[int], frames):
        """The model step on the stacked state of ``rows``, in ascending row order; also
        where each asked row is in the batch."""
        for row in rows:
            self._check_row(row)
            if self._states[row] is None:
                raise LiveSnnError(f"row {row} was released: its stream has ended")
        order = sorted(range(len(rows)), key=rows.__getitem__)
        batch_rows = tuple(rows[i] for i in order)
        for position, i in enumerate(order):
            self._staging[position].copy_(frame_tensor(frames[i]))
        x = self._staging[:len(rows)].to(self.device, non_blocking=True)
        if len(rows) == 1:
            state = self._states[rows[0]]
        elif self._last_batch is not None and self._last_batch[0] == batch_rows:
            state = self._last_batch[1]
        else:
            state = ModelState.stack_rows([self._states[row] for row in batch_rows])
        scores, new_state, step_taps = self.model.step(x, state)
        if len(rows) > 1:
            self._last_batch = (batch_rows, new_state)
        else:  # a lone row steps on its own state: the kept batch stands unless it holds it
            self._forget_batch(rows[0])
        for row, row_state in zip(batch_rows, new_state.split_rows(), strict=True):
            self._states[row] = row_state
        at = [0] * len(rows)
        for position, i in enumerate(order):
            at[i] = position
        return scores, step_taps, at

    def _graph_step(self, rows: Sequence[int], frames):
        self._mask.zero_()
        for row, frame in zip(rows, frames, strict=True):
            self._check_row(row)
            self._staging[row].copy_(frame_tensor(frame))
            self._mask[row] = True
        scores, step_taps = self._graph.step(self._staging, self._mask)
        return scores, step_taps, list(rows)   # every row is in the batch, at its own place
