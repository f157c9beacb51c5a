"""The last ``capacity`` frames, preallocated on the model's device.

The streaming model reads the newest frame each bin; the window mode and the GUI read the
last ``T`` frames in time order. Storage is one ``[capacity, *frame_shape]`` tensor allocated
once: a push copies into the next slot (host → device when the buffer lives on a GPU) and
never allocates.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch


class RingBuffer:
    def __init__(
        self,
        capacity: int,
        frame_shape: Sequence[int],
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
    ):
        if capacity < 1:
            raise ValueError(f"ring buffer capacity must be at least 1, got {capacity}")
        self.frame_shape = tuple(int(d) for d in frame_shape)
        self.device = torch.device(device)
        self.dtype = dtype
        self._storage = torch.zeros((capacity, *self.frame_shape), dtype=dtype, device=device)
        self._next = 0  # slot the next push writes
        self._len = 0
        self._total = 0

    @property
    def capacity(self) -> int:
        return int(self._storage.shape[0])

    @property
    def total_pushed(self) -> int:
        """Frames pushed since creation or the last :meth:`clear`."""
        return self._total

    def __len__(self) -> int:
        return self._len

    def push(self, frame: np.ndarray | torch.Tensor) -> None:
        """Copy ``frame`` (shape ``frame_shape``) into the next slot, overwriting the oldest
        frame once full. Any numeric dtype is converted on the copy."""
        if tuple(frame.shape) != self.frame_shape:
            raise ValueError(
                f"frame of shape {tuple(frame.shape)} pushed into a ring buffer of "
                f"{self.frame_shape} frames"
            )
        self._storage[self._next].copy_(frame_tensor(frame))
        self._next = (self._next + 1) % self.capacity
        self._len = min(self._len + 1, self.capacity)
        self._total += 1

    def latest(self) -> torch.Tensor:
        """The newest frame: a view of its slot, valid until ``capacity`` more pushes
        (clone it to keep it longer)."""
        if self._len == 0:
            raise IndexError("ring buffer is empty: no frame pushed yet")
        return self._storage[(self._next - 1) % self.capacity]

    def window(self, T: int, out: torch.Tensor | None = None) -> torch.Tensor:
        """The last ``T`` frames, oldest first, ``[T, *frame_shape]``: a new tensor, or
        written into ``out`` (same shape, dtype and device) to avoid allocating."""
        if not 1 <= T <= self._len:
            raise ValueError(
                f"window of {T} frames requested but the ring buffer holds {self._len} "
                f"(capacity {self.capacity})"
            )
        if out is None:
            out = torch.empty((T, *self.frame_shape), dtype=self.dtype, device=self.device)
        elif tuple(out.shape) != (T, *self.frame_shape):
            raise ValueError(f"out has shape {tuple(out.shape)}, expected {(T, *self.frame_shape)}")
        start = (self._next - T) % self.capacity
        first = min(T, self.capacity - start)  # frames before the wrap-around
        out[:first].copy_(self._storage[start : start + first])
        if first < T:
            out[first:].copy_(self._storage[: T - first])
        return out

    def clear(self) -> None:
        """Forget every frame (e.g. on a source change); the storage is kept."""
        self._next = self._len = self._total = 0


def frame_tensor(frame: np.ndarray | torch.Tensor) -> torch.Tensor:
    """A tensor view of ``frame`` to copy from. The binner's empty frames are read-only
    arrays; torch warns when it wraps one, although the buffer only reads from it."""
    if not isinstance(frame, np.ndarray):
        return frame
    if frame.flags.writeable:
        return torch.from_numpy(frame)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(frame)
