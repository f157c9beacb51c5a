"""A bounded per-step history of what the engine predicted, indexed by bin: the one place
where Prediction records become arrays.

The GUI's timeline draws from it, selecting a past step reads that step's frame, gate and
prediction back from it, and the ``.npz`` export is written from it. Rows are keyed by bin
index (row = bin - ``base_bin``), so replaying a stretch again after a seek overwrites the same
rows instead of appending duplicates. Storage is NumPy arrays grown in chunks (doubling) up
to ``capacity_steps``; past that the oldest rows are dropped. Frames are big, so they get their
own smaller ring sized by a byte budget.

Qt-free: the GUI's bridge fills it on the Qt thread, widgets only read slices of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from live_snn.taps import ATTENTION_PARTS
from live_snn.view.frame_ring import FrameRing

_MIN_ROWS = 256


@dataclass(frozen=True)
class HistoryConfig:
    capacity_steps: int = 20_000             # per-step records kept (oldest dropped first)
    frame_budget_bytes: int = 64 * 1024**2   # for the frames of the most recent steps

    def __post_init__(self) -> None:
        if self.capacity_steps < 1:
            raise ValueError(f"capacity_steps must be >= 1, got {self.capacity_steps}")
        if self.frame_budget_bytes < 0:
            raise ValueError(f"frame_budget_bytes must be >= 0, got {self.frame_budget_bytes}")


@dataclass(frozen=True)
class HistoryLayout:
    """What every step of a session holds: its class count, its attention layers with their
    channel counts, its spiking layers."""

    num_classes: int
    attention_layers: dict[str, int]
    spiking_layers: tuple[str, ...]

    @classmethod
    def of_prediction(cls, prediction) -> HistoryLayout:
        return cls(
            num_classes=int(np.asarray(prediction.probs).shape[0]),
            attention_layers={name: int(np.asarray(parts["gate"]).shape[0])
                              for name, parts in prediction.attention.items()},
            spiking_layers=tuple(prediction.spike_rates),
        )

    @classmethod
    def of_session(cls, info) -> HistoryLayout:
        """From a :class:`~live_snn.engine.records.SessionInfo` (predictions with taps)."""
        return cls(len(info.class_names), dict(info.attention_channels),
                   tuple(info.spiking_layers))

    def check(self, prediction) -> None:
        """A prediction of another layout is an error naming its bin, not a ragged row."""
        if np.shape(prediction.probs) != (self.num_classes,):
            raise ValueError(f"bin {prediction.bin}: {np.size(prediction.probs)} class "
                             f"probabilities, expected {self.num_classes}")
        missing = [name for name in self.attention_layers if name not in prediction.attention]
        missing += [name for name in self.spiking_layers if name not in prediction.spike_rates]
        if missing:
            raise ValueError(f"bin {prediction.bin}: no taps for layer(s) {', '.join(missing)}")


@dataclass(frozen=True)
class StepRecord:
    """One step read back from the history (what a selected step shows)."""

    bin: int
    t_start_us: int
    t_end_us: int
    events: int
    probs: np.ndarray
    smoothed: np.ndarray
    label: int
    confidence: float
    uncertain: bool
    ground_truth: int
    spike_rates: np.ndarray                  # [L] in the order of ``spiking_layers``
    attention: dict[str, dict[str, np.ndarray]]
    frame: np.ndarray | None                 # model-resolution counts, if still in the ring
    sensor_frame: np.ndarray | None          # sensor-resolution counts, if still in the ring


class StepHistory:
    """Per-bin records of one session (one source + one model). ``clear()`` on a new session.

    The layout (class count, attention layers and their channel counts, spiking layers) is
    ``layout`` if given, else taken from the first prediction appended; a prediction of
    another layout is refused (:meth:`HistoryLayout.check`; the GUI clears the history when
    the model changes).
    """

    def __init__(self, config: HistoryConfig | None = None, *,
                 layout: HistoryLayout | None = None):
        self.config = config or HistoryConfig()
        self._given_layout = layout
        self.clear()

    @property
    def num_classes(self) -> int:
        return 0 if self.layout is None else self.layout.num_classes

    @property
    def attention_layers(self) -> dict[str, int]:
        return {} if self.layout is None else self.layout.attention_layers

    @property
    def spiking_layers(self) -> tuple[str, ...]:
        return () if self.layout is None else self.layout.spiking_layers

    # -- writing -------------------------------------------------------------------------
    def clear(self) -> None:
        """Forget every step (and the layout, unless it was given)."""
        self.base_bin = 0
        self.rows = 0                 # rows in use: bins base_bin .. base_bin + rows - 1
        self.latest_bin: int | None = None
        self.layout: HistoryLayout | None = self._given_layout
        self._allocated = 0
        self._arrays: dict[str, np.ndarray] = {}
        self._gates: dict[str, dict[str, np.ndarray]] = {}
        self._frames: FrameRing | None = None
        self._sensor_frames: FrameRing | None = None

    def append(self, predictions: Sequence) -> None:
        """Store a batch of engine ``Prediction`` records (any bin order, repeats allowed:
        the last one written for a bin wins)."""
        if not predictions:
            return
        if not self._arrays:
            self._init_layout(self.layout or HistoryLayout.of_prediction(predictions[0]),
                              predictions[0])
        for prediction in predictions:
            self.layout.check(prediction)
        bins = np.fromiter((p.bin for p in predictions), dtype=np.int64, count=len(predictions))
        if self.rows == 0:
            self.base_bin = int(bins.min())
        elif bins.min() < self.base_bin:
            self._extend_down(int(bins.min()))
        self._make_room(int(bins.max()))
        keep = bins >= self.base_bin      # older than the retained range: nothing to show
        if not keep.all():
            predictions = [p for p, k in zip(predictions, keep, strict=True) if k]
            bins = bins[keep]
            if not len(bins):
                return
        rows = bins - self.base_bin
        a = self._arrays
        a["valid"][rows] = True
        a["t_start"][rows] = [p.t_start_us for p in predictions]
        a["t_end"][rows] = [p.t_end_us for p in predictions]
        a["events"][rows] = [p.events for p in predictions]
        a["label"][rows] = [p.label for p in predictions]
        a["confidence"][rows] = [p.confidence for p in predictions]
        a["uncertain"][rows] = [p.uncertain for p in predictions]
        a["onset"][rows] = [p.onset for p in predictions]
        a["ground_truth"][rows] = [p.ground_truth for p in predictions]
        a["scores"][rows] = np.stack([p.scores for p in predictions])
        a["probs"][rows] = np.stack([p.probs for p in predictions])
        a["smoothed"][rows] = np.stack([p.smoothed for p in predictions])
        if self.spiking_layers:
            a["spike_rates"][rows] = [
                [p.spike_rates.get(name, np.nan) for name in self.spiking_layers]
                for p in predictions
            ]
        for layer, parts in self._gates.items():
            for part, store in parts.items():
                store[rows] = np.stack([p.attention[layer][part] for p in predictions])
        self._store_frames(bins, predictions)
        self.rows = max(self.rows, int(rows.max()) + 1)
        self.latest_bin = int(bins[-1])

    def _init_layout(self, layout: HistoryLayout, first) -> None:
        self.layout = layout
        self._grow(_MIN_ROWS)
        self._frames = self._ring_for(first.frame, np.float32)
        self._sensor_frames = self._ring_for(first.sensor_frame, np.uint8)

    def _ring_for(self, frame: np.ndarray | None, dtype) -> FrameRing | None:
        if frame is None:
            return None
        return FrameRing(tuple(np.asarray(frame).shape), dtype, self.config.frame_budget_bytes // 2)

    def _store_frames(self, bins: np.ndarray, predictions: Sequence) -> None:
        for ring, name in ((self._frames, "frame"), (self._sensor_frames, "sensor_frame")):
            if ring is None:
                continue
            frames = [getattr(p, name) for p in predictions]
            if all(f is not None for f in frames):
                # Sensor frames go in as uint8: enough to draw a bin, and the ring 2x smaller.
                ring.put(bins, frames)

    def _fresh_arrays(self, n: int) -> dict[str, np.ndarray]:
        k, layers = self.num_classes, len(self.spiking_layers)
        return {
            "valid": np.zeros(n, dtype=bool),
            "t_start": np.zeros(n, dtype=np.int64),
            "t_end": np.zeros(n, dtype=np.int64),
            "events": np.zeros(n, dtype=np.int64),
            "label": np.full(n, -1, dtype=np.int16),
            "confidence": np.full(n, np.nan, dtype=np.float32),
            "uncertain": np.zeros(n, dtype=bool),
            "onset": np.zeros(n, dtype=bool),
            "ground_truth": np.full(n, -1, dtype=np.int16),
            "scores": np.full((n, k), np.nan, dtype=np.float32),
            "probs": np.full((n, k), np.nan, dtype=np.float32),
            "smoothed": np.full((n, k), np.nan, dtype=np.float32),
            "spike_rates": np.full((n, layers), np.nan, dtype=np.float32),
        }

    def _fresh_gates(self, n: int) -> dict[str, dict[str, np.ndarray]]:
        return {
            name: {part: np.full((n, c), np.nan, dtype=np.float32) for part in ATTENTION_PARTS}
            for name, c in self.attention_layers.items()
        }

    def _grow(self, n: int) -> None:
        arrays, gates = self._fresh_arrays(n), self._fresh_gates(n)
        used = self.rows
        for key, old in self._arrays.items():
            arrays[key][:used] = old[:used]
        for name, parts in self._gates.items():
            for part, old in parts.items():
                gates[name][part][:used] = old[:used]
        self._arrays, self._gates, self._allocated = arrays, gates, n

    def _make_room(self, max_bin: int) -> None:
        needed = max_bin - self.base_bin + 1
        capacity = self.config.capacity_steps
        if needed > capacity:
            # Drop whole chunks of the oldest rows (amortised: not one shift per step).
            chunk = max(capacity // 8, 1)
            drop = min(-(-(needed - capacity) // chunk) * chunk, self.rows)
            drop = max(drop, needed - capacity)
            self._drop_oldest(drop)
            needed = max_bin - self.base_bin + 1
        if needed > self._allocated:
            self._grow(min(capacity, max(needed, 2 * self._allocated)))

    def _drop_oldest(self, drop: int) -> None:
        keep = max(self.rows - drop, 0)
        for store in self._all_stores():
            store[:keep] = store[drop : drop + keep].copy()
            store[keep:] = self._blank(store)
        self.base_bin += drop
        self.rows = keep

    def _extend_down(self, min_bin: int) -> None:
        """A seek went back before the first retained bin: move the rows up to make room
        below, or start afresh when the whole span would not fit."""
        shift = self.base_bin - min_bin
        if self.rows + shift > self.config.capacity_steps:
            self.base_bin, self.rows = min_bin, 0
            for store in self._all_stores():
                store[:] = self._blank(store)
            return
        if self.rows + shift > self._allocated:
            self._grow(min(self.config.capacity_steps, max(self.rows + shift, 2 * self._allocated)))
        for store in self._all_stores():
            store[shift : shift + self.rows] = store[: self.rows].copy()
            store[:shift] = self._blank(store)
        self.base_bin, self.rows = min_bin, self.rows + shift

    @staticmethod
    def _blank(store: np.ndarray):
        if store.dtype == bool:
            return False
        if store.dtype.kind == "f":
            return np.nan
        return -1 if store.dtype == np.int16 else 0

    def _all_stores(self):
        yield from self._arrays.values()
        for parts in self._gates.values():
            yield from parts.values()

    # -- reading -------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.rows

    @property
    def first_bin(self) -> int:
        return self.base_bin

    @property
    def last_bin(self) -> int | None:
        return self.base_bin + self.rows - 1 if self.rows else None

    def column(self, name: str) -> np.ndarray:
        """A per-row array over the retained bins (a view: do not write to it).

        Names: valid, t_start, t_end, events, label, confidence, uncertain, onset,
        ground_truth, scores, probs, smoothed, spike_rates."""
        if not self._arrays:
            return np.empty(0)
        return self._arrays[name][: self.rows]

    def attention_column(self, layer: str, part: str) -> np.ndarray:
        """``float32 [rows, C]`` of one attention layer's part over the retained bins (a
        view: do not write to it); NaN rows where a bin is missing."""
        if not self._gates:
            channels = self.attention_layers[layer]
            return np.empty((0, channels), dtype=np.float32)
        return self._gates[layer][part][: self.rows]

    def has(self, bin_index: int) -> bool:
        row = bin_index - self.base_bin
        return 0 <= row < self.rows and bool(self._arrays["valid"][row])

    def _window_rows(self, end_bin: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        bins = np.arange(end_bin - length + 1, end_bin + 1, dtype=np.int64)
        rows = bins - self.base_bin
        inside = (rows >= 0) & (rows < self.rows)
        inside[inside] = self._arrays["valid"][rows[inside]]
        return bins, np.where(inside, rows, -1)

    def _gather(self, store: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = np.full((len(rows), *store.shape[1:]), np.nan, dtype=np.float32)
        have = rows >= 0
        out[have] = store[rows[have]]
        return out

    def attention_window(self, layer: str, end_bin: int, length: int) -> dict[str, np.ndarray]:
        """``{part: float32 [length, C]}`` for bins ``end_bin - length + 1 .. end_bin``;
        rows of bins not in the history are NaN."""
        if layer not in self._gates:
            raise KeyError(f"no attention layer {layer!r}; have {sorted(self._gates)}")
        _, rows = self._window_rows(end_bin, length)
        return {part: self._gather(store, rows) for part, store in self._gates[layer].items()}

    def series_window(self, name: str, end_bin: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """``(bins [length], values [length, ...])`` of one column, NaN where missing."""
        bins, rows = self._window_rows(end_bin, length)
        return bins, self._gather(self._arrays[name], rows)

    def step(self, bin_index: int) -> StepRecord | None:
        if not self.has(bin_index):
            return None
        row = bin_index - self.base_bin
        a = self._arrays
        return StepRecord(
            bin=bin_index,
            t_start_us=int(a["t_start"][row]),
            t_end_us=int(a["t_end"][row]),
            events=int(a["events"][row]),
            probs=a["probs"][row].copy(),
            smoothed=a["smoothed"][row].copy(),
            label=int(a["label"][row]),
            confidence=float(a["confidence"][row]),
            uncertain=bool(a["uncertain"][row]),
            ground_truth=int(a["ground_truth"][row]),
            spike_rates=a["spike_rates"][row].copy(),
            attention={
                name: {part: store[row].copy() for part, store in parts.items()}
                for name, parts in self._gates.items()
            },
            frame=self._frames.get(bin_index) if self._frames else None,
            sensor_frame=self._sensor_frames.get(bin_index) if self._sensor_frames else None,
        )

    def frames_between(self, first_bin: int, last_bin: int, *, sensor: bool) -> np.ndarray | None:
        """Stacked frames of bins ``first_bin .. last_bin`` still in the ring (missing ones
        skipped), or None when no frames of that kind are kept."""
        ring = self._sensor_frames if sensor else self._frames
        if ring is None or not ring.slots:
            return None
        first_bin = max(first_bin, last_bin - ring.slots + 1)
        bins = np.arange(first_bin, last_bin + 1, dtype=np.int64)
        slots = bins % ring.slots
        present = ring.bins[slots] == bins
        return ring.frames[slots[present]]
