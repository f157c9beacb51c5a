"""One closed bin through the model and the predictor: :class:`BinStepper` takes a replay's
state snapshots, resets the model once a silence has lasted ``reset_on_silence_ms``, times
the bin's stages and makes its :class:`~live_snn.engine.records.Prediction`."""

from __future__ import annotations

import math
import time

import numpy as np

from live_snn.engine.config import EngineEvent
from live_snn.engine.frame_cutter import ClosedBin
from live_snn.engine.observers import Observers
from live_snn.engine.records import Prediction
from live_snn.engine.session import Session
from live_snn.engine.snapshots import Snapshot
from live_snn.engine.stats import EngineCounters


class BinStepper:
    """Used by the engine thread alone. ``record_taps``: attention and spike rates in each
    Prediction; ``silence_ms``: reset after that long without events (None: never)."""

    def __init__(self, session: Session, *, counters: EngineCounters, observers: Observers,
                 record_taps: bool, silence_ms: float | None):
        self.session = session
        self.counters = counters
        self.observers = observers
        self.record_taps = record_taps
        self.silence_ms = silence_ms
        self.clear()

    def clear(self) -> None:
        """A new session: no silence counted, no bin skipped."""
        self._empty_run = 0           # consecutive empty bins just before the next one
        self._reset_due = False       # the silence ran out inside skipped bins
        self._skipped_since = 0       # bins skipped by backpressure since the last Prediction

    def skipped(self, closed: ClosedBin) -> None:
        """A live bin dropped by backpressure: counted, and its silence counts too."""
        self.counters.record_skipped(1, self.session.binning.dt_us, closed.frame.n_events)
        self._skipped_since += 1
        if self._count_silence(closed.frame.n_events):
            self._reset_due = True

    def restore(self, target_bin: int) -> int:
        """Before a seek to ``target_bin``: the state of the nearest snapshot before it (or
        the initial state); returns the bin to fast-forward from."""
        session = self.session
        snapshot = session.store.nearest(target_bin)
        if snapshot is None:
            session.runner.reset()
            session.predictor.reset()
            self._empty_run, first = 0, 0
        else:
            session.runner.restore(snapshot.runner)
            session.predictor.restore(snapshot.predictor)
            self._empty_run, first = snapshot.empty_run, snapshot.bin
        self._reset_due = False
        return first

    def reset_model(self, why: str, bin_index: int | None = None) -> None:
        """Zero the model state and the smoothing, and say so."""
        self.session.runner.reset()
        self.session.predictor.reset()
        self.counters.count_reset()
        self.observers.status(EngineEvent("reset", why, bin=bin_index))

    def _count_silence(self, n_events: int) -> bool:
        """Count this bin into the run of empty bins; True when the run just reached the
        reset-on-silence length (the reset happens once per silence)."""
        self._empty_run = self._empty_run + 1 if n_events == 0 else 0
        silence_bins = self.session.silence_bins
        return silence_bins is not None and self._empty_run == silence_bins

    def step(self, closed: ClosedBin, *, emit: bool) -> None:
        """Step ``closed`` through the model and the predictor; with ``emit``, hand out its
        Prediction (a seek's fast-forward steps silently)."""
        session, frame = self.session, closed.frame
        runner, predictor = session.runner, session.predictor
        if session.seekable and session.store.due(frame.index):
            session.store.add(Snapshot(frame.index, runner.snapshot(), predictor.snapshot(),
                                       self._empty_run))
        silence_reset = self._count_silence(frame.n_events) or self._reset_due
        self._reset_due = False
        if closed.reset_before is not None:  # a live clock that jumped was re-anchored here
            self.reset_model("clock re-anchored after a jump", frame.index)
        elif silence_reset:
            if emit:
                self.reset_model(
                    f"{self.silence_ms:g} ms without events", frame.index)
            else:  # fast-forward: same state change, no report
                runner.reset()
                predictor.reset()
        step_start = time.perf_counter()
        result = runner.step(frame.counts, taps=emit and self.record_taps)
        out = predictor.update(result.scores)
        if not emit:
            return
        done = time.perf_counter()
        closed_at = closed.closed_at if closed.release is None else max(closed.closed_at,
                                                                           closed.release)
        latency = {
            "event_to_bin": (closed.closed_at - closed.arrival) * 1e3
            if closed.arrival is not None else math.nan,
            "queue": (step_start - closed_at) * 1e3,
            "step": result.step_ms,
            "bin_to_prediction": (done - closed_at) * 1e3,
        }
        prediction = Prediction(
            bin=frame.index,
            t_start_us=frame.t_start,
            t_end_us=frame.t_end,
            events=frame.n_events,
            scores=result.scores,
            probs=out.probs,
            smoothed=out.smoothed,
            label=out.label,
            label_name=session.info.class_names[out.label],
            confidence=out.confidence,
            uncertain=out.uncertain,
            onset=out.onset,
            attention=result.attention,
            spike_rates=result.spike_rates,
            frame=frame.counts,  # read-only for empty bins (they share one zero array)
            sensor_frame=frame.sensor_counts,
            ground_truth=self._ground_truth(frame.t_start, frame.t_end),
            latency_ms=latency,
            skipped_before=self._skipped_since,
        )
        self._skipped_since = 0
        self._count_bin(prediction, done)
        self.observers.prediction(prediction)

    def _ground_truth(self, t_start_us: int, t_end_us: int) -> int:
        """The source's label at the bin centre, -1 without labels (a simulator's label
        track grows as it goes, so it is read at every bin)."""
        labels = getattr(self.session.source, "labels", None)
        if labels is None:
            return -1
        centre = np.array([(t_start_us + t_end_us) // 2], dtype=np.int64)
        return int(labels.label_at(centre)[0])

    def _count_bin(self, prediction: Prediction, done: float) -> None:
        binner = self.session.feed.binner_stats
        if binner is not None:
            self.counters.set_binner_dropped({
                "out_of_range": binner.dropped_out_of_range,
                "outside_crop": binner.dropped_outside_crop,
                "time_reversal": binner.dropped_time_reversal,
            })
        self.counters.record_bin(
            {k: v for k, v in prediction.latency_ms.items() if not math.isnan(v)},
            self.session.binning.dt_us, prediction.t_end_us, done)
