"""The frames of the newest steps of a history, in a ring sized by a byte budget (frames
are big: a history keeps far more steps than frames)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class FrameRing:
    """The frames of the last ``slots`` bins, slot = bin % slots (O(1) write and lookup)."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, budget_bytes: int):
        frame_bytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        self.slots = max(1, budget_bytes // max(frame_bytes, 1)) if budget_bytes else 0
        self.shape = shape
        self.frames = np.zeros((self.slots, *shape), dtype=dtype)
        self.bins = np.full(self.slots, -1, dtype=np.int64)
        # Counts beyond an integer ring's range saturate instead of wrapping around.
        self._saturate = np.iinfo(dtype).max if np.dtype(dtype).kind == "u" else None

    def put(self, bins: np.ndarray, frames: Sequence[np.ndarray]) -> None:
        """Frame by frame into its slot, cast (saturating) to the ring's dtype on the way:
        no stacked copy of the batch (sensor frames are large)."""
        if not self.slots:
            return
        for bin_index, frame in zip(bins[-self.slots:].tolist(), frames[-self.slots:],
                                    strict=True):  # a batch longer than the ring: its newest
            slot = bin_index % self.slots
            if self._saturate is None or frame.max() <= self._saturate:
                np.copyto(self.frames[slot], frame, casting="unsafe")  # fast (SIMD) cast
            else:
                np.minimum(frame, self._saturate, out=self.frames[slot], casting="unsafe")
            self.bins[slot] = bin_index

    def get(self, bin_index: int) -> np.ndarray | None:
        if not self.slots:
            return None
        slot = bin_index % self.slots
        return self.frames[slot].copy() if self.bins[slot] == bin_index else None
