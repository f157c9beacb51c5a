"""The count arrays of the streaming binner: the open bin's row and the rows of the bins
after it, carved in order out of zeroed blocks, so that one ``np.add.at`` adds a whole push
and a completed bin is handed out as a view of its row."""

from __future__ import annotations

import numpy as np

_BLOCK_BYTES = 1 << 20  # frames are carved out of zeroed blocks of about this size


class Rows:
    """Count arrays of one index space (model or sensor pixels) while streaming. The open
    bin's row and the rows of the bins after it are carved, in order, out of zeroed blocks
    of about ``_BLOCK_BYTES`` (``[rows, 2, H, W]``), so that one ``np.add.at`` adds a whole
    push (its events offset by their row) and a completed bin is handed out as a view of its
    row. Only bins with events use up a row: an empty bin's row is still clean and goes to
    the next bin. A block lives as long as a frame viewing it.

    ``recycle``: the caller copies every completed row out before its next call, so the
    block retired before the current one is free again and is reused, clearing just the
    counts that were added to it (for sensor frames: far fewer than their pixels)."""

    def __init__(self, shape: tuple[int, int, int], dtype: type, *, recycle: bool = False):
        self.shape, self.dtype, self.recycle = shape, dtype, recycle
        self.size = shape[0] * shape[1] * shape[2]
        self.block_rows = max(1, _BLOCK_BYTES // (self.size * np.dtype(dtype).itemsize))
        self.events = 0  # events in the open row
        self.one = np.dtype(dtype).type(1)  # of the counts' own dtype: add.at's fast path
        self._next_row = np.array([0, self.size], dtype=np.intp)
        self._added: list[tuple[int, np.ndarray]] = []  # recycle: (offset, flat indices)
        self._spare: tuple[np.ndarray, list[tuple[int, np.ndarray]]] | None = None
        self.block = self._take_block(1)
        self.flat = self.block.reshape(-1)
        self.row = 0  # the open bin's row
        self.tail = self.flat  # the flat counts from the open row on

    def _take_block(self, rows: int) -> np.ndarray:
        rows = max(rows, self.block_rows)
        if self.recycle:
            spare, self._added = self._spare, []
            if spare is not None and len(spare[0]) >= rows:
                flat = spare[0].reshape(-1)
                for offset, index in spare[1]:
                    flat[offset:][index] = 0
                return spare[0]
        return np.zeros((rows, *self.shape), dtype=self.dtype)

    def _new_block(self, rows: int) -> None:
        if self.recycle:
            retired = (self.block, self._added)
            self.block = self._take_block(rows)
            self._spare = retired
        else:
            self.block = self._take_block(rows)
        self.flat = self.block.reshape(-1)
        self.row, self.tail = 0, self.flat

    def _open_row(self, row: int) -> None:
        if row >= len(self.block):
            self._new_block(1)
        elif row != self.row:
            self.row, self.tail = row, self.flat[row * self.size :]

    def _add_from_open(self, index: np.ndarray) -> None:
        """One count at ``tail[index]`` for each of ``index`` (relative to the open row)."""
        np.add.at(self.tail, index, self.one)
        if self.recycle:
            self._added.append((self.row * self.size, index))

    def _add_from_start(self, index: np.ndarray) -> None:
        """One count at ``flat[index]`` for each of ``index`` (relative to the block)."""
        np.add.at(self.flat, index, self.one)
        if self.recycle:
            self._added.append((0, index))

    def add_to_open(self, index: np.ndarray) -> None:
        if len(index):
            self._add_from_open(index)
            self.events += len(index)

    def advance_one(self, index: np.ndarray, n0: int) -> tuple[np.ndarray | None, int]:
        """:meth:`advance` for ``m = 1`` (the first ``n0`` events in the open bin, the rest in
        the next one) with less Python. Returns the closed bin's counts and event count."""
        n_events = self.events + n0
        row, n = self.row, len(index)
        if not n_events:  # the open bin stays empty: its clean row goes to the next bin
            if n:
                self._add_from_open(index)
            self.events = n
            return None, 0
        counts = self.block[row]
        if row + 1 < len(self.block):
            if n:
                flat = self._next_row.repeat((n0, n - n0))  # intp: add.at's fast path
                flat += index
                self._add_from_open(flat)
            self.row, self.tail = row + 1, self.flat[(row + 1) * self.size :]
        else:
            if n0:
                self._add_from_open(index[:n0])
            self._new_block(1)
            if n0 < n:
                self._add_from_start(index[n0:])
        self.events = n - n0
        return counts, n_events

    def advance(
        self, index: np.ndarray, lengths: list[int]
    ) -> tuple[list[np.ndarray | None], list[int]]:
        """Add the events of bins ``open..open+m`` (``lengths[j]`` in bin ``open+j``,
        ``index`` in bin order), close the first ``m`` of these bins and make the last one
        the open bin. Returns the closed bins' counts (``None`` for an empty bin) and their
        event counts."""
        size, m, n0 = self.size, len(lengths) - 1, lengths[0]
        n_events = [self.events + n0, *lengths[1:m]]
        counts: list[np.ndarray | None] = [self.block[self.row] if n_events[0] else None]
        # Rows for bins open+1..open+m, from the first clean one on: one per bin with events,
        # and one for the new open bin in any case.
        first = row = self.row + 1 if n_events[0] else self.row
        rows: list[int | None] = []
        for n in lengths[1:m]:
            if n:
                rows.append(row)
                row += 1
            else:
                rows.append(None)
        rows.append(row)
        if row < len(self.block):  # all in this block: one add.at
            if len(index):
                base = self.row
                offsets = [0, *(0 if r is None else (r - base) * size for r in rows)]
                flat = np.repeat(offsets, lengths)
                flat += index
                self._add_from_open(flat)
        else:  # the open bin's row ends this block: the later bins start a new one
            if n0:
                self._add_from_open(index[:n0])
            rows = [None if r is None else r - first for r in rows]
            self._new_block(rows[-1] + 1)
            if n0 < len(index):
                offsets = [0 if r is None else r * size for r in rows]
                flat = np.repeat(offsets, lengths[1:])
                flat += index[n0:]
                self._add_from_start(flat)
        block = self.block
        counts += [None if r is None else block[r] for r in rows[:-1]]
        self._open_row(rows[-1])
        self.events = lengths[m]
        return counts, n_events

    def close(self, n_bins: int) -> tuple[list[np.ndarray | None], list[int]]:
        """Close the open bin and ``n_bins - 1`` empty ones after it; returns as
        :meth:`advance` does."""
        counts: list[np.ndarray | None] = [None] * n_bins
        n_events = [self.events] + [0] * (n_bins - 1)
        if self.events:
            counts[0] = self.block[self.row]
            self._open_row(self.row + 1)
            self.events = 0
        return counts, n_events
