"""Model-state snapshots taken during replay, so that a seek restores the nearest earlier one
and fast-forwards instead of replaying from the start. Memory is bounded by a byte budget:
when it is exceeded the interval doubles and every other snapshot is let go."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from live_snn.engine.predictor import PredictorState
from live_snn.engine.runner import RunnerSnapshot


@dataclass(frozen=True)
class Snapshot:
    """Everything that decides the outputs from bin ``bin`` on (state *before* that bin)."""

    bin: int
    runner: RunnerSnapshot
    predictor: PredictorState
    empty_run: int          # consecutive empty bins just before ``bin`` (reset on silence)


class SnapshotStore:
    def __init__(self, every: int, budget_bytes: int):
        if every < 1:
            raise ValueError(f"snapshot_every must be >= 1 bin, got {every}")
        self.every = every
        self.budget_bytes = budget_bytes
        self._bins: list[int] = []
        self._snapshots: dict[int, Snapshot] = {}
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._bins)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def due(self, bin_index: int) -> bool:
        return bin_index % self.every == 0 and bin_index not in self._snapshots

    def add(self, snapshot: Snapshot) -> None:
        if snapshot.bin in self._snapshots:
            return
        bisect.insort(self._bins, snapshot.bin)
        self._snapshots[snapshot.bin] = snapshot
        self._bytes += snapshot.runner.nbytes
        while self._bytes > self.budget_bytes and len(self._bins) > 1:
            self._thin()

    def _thin(self) -> None:
        self.every *= 2
        keep = [b for b in self._bins if b % self.every == 0]
        if len(keep) == len(self._bins):  # nothing falls on the coarser grid: drop the newest
            keep = self._bins[:-1]
        for b in set(self._bins) - set(keep):
            self._bytes -= self._snapshots.pop(b).runner.nbytes
        self._bins = keep

    def nearest(self, bin_index: int) -> Snapshot | None:
        """The latest snapshot taken before bin ``bin_index`` (or at it)."""
        i = bisect.bisect_right(self._bins, bin_index)
        return self._snapshots[self._bins[i - 1]] if i else None

    def clear(self) -> None:
        self._bins.clear()
        self._snapshots.clear()
        self._bytes = 0
