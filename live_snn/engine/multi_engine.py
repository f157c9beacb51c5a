"""Many streams, one model: :class:`MultiStreamEngine` runs several sources (cameras,
network streams, simulators, recordings) through one shared network, each stream in one row
of a batched state, on one engine thread.

Each stream keeps what is its own (:class:`~live_snn.engine.stream_lane.StreamLane`): its
source and binner, its event clock, its backpressure policy, its row of network state, its
predictor, counters and observers. Whenever bins are ready the engine steps all streams that
have one in a single batched ``model.step``
(:class:`~live_snn.engine.batched_runner.BatchedRunner`); the others' rows are not touched.
A stream that drops, reconnects, resets or ends resets or lets go of its own row, and its
reconnection attempts run beside the engine, so the other streams never wait for it.
Each stream's predictions equal what the single-stream :class:`~live_snn.engine.Engine`
gives for that stream alone (same bins; tested to 1e-5).

Typical use::

    engine = MultiStreamEngine(EngineConfig())
    for spec in ("tcp://10.0.0.5:7777", "tcp://10.0.0.6:7777", "sim:seed=3"):
        engine.add(spec)
    engine.load_model(None)                # the bundled model
    engine.subscribe(lambda stream, prediction: print(stream, prediction.label_name))
    engine.start()
    engine.wait()
    print(engine.stats().totals())
    engine.close()

Recordings among the sources are replayed at ``speed`` × real time (``None``: as fast as
the batch goes), each on its own clock; they cannot be seeked here.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from live_snn.engine.batched_runner import BatchedRunner
from live_snn.engine.commands import CommandQueue
from live_snn.engine.config import EngineConfig, EngineEvent
from live_snn.engine.lifecycle import EngineLifecycle
from live_snn.engine.multi_loop import MultiRunLoop
from live_snn.engine.multi_stats import BatchCounters, MultiStreamStats
from live_snn.engine.records import Prediction, SessionInfo
from live_snn.engine.runner import resolve_device
from live_snn.engine.session import checkpoint_of, is_network_spec, runtime_binning, source_of
from live_snn.engine.stream_lane import StreamLane
from live_snn.errors import LiveSnnError
from live_snn.events import EventBatch, Resolution


def stream_name(spec: str) -> str:
    """A short name for the stream of ``spec``, usable as a file name: a recording's stem,
    otherwise the spec with every character but letters, digits and ``. = -`` made ``_``
    (``tcp://127.0.0.1:7777`` -> ``tcp_127.0.0.1_7777``, ``sim:seed=3`` -> ``sim_seed=3``)."""
    text = spec.strip()
    if not is_network_spec(text) and not text.startswith(("sim", "camera")):
        stem = Path(text).stem
        if stem:
            return stem
    name = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9.=-]", "_", text)).strip("_.")
    return name or "stream"


def unique_name(base: str, taken) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not in ``taken``."""
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}-{k}"
    return name


def stream_names(specs) -> list[str]:
    """The names :meth:`MultiStreamEngine.add` gives streams added from ``specs``, in order."""
    names: list[str] = []
    for spec in specs:
        names.append(unique_name(stream_name(spec), names))
    return names


@dataclass
class _Stream:
    """A stream added to the engine, and its lane once the model is known."""

    name: str
    source: object
    spec: str | None
    reopen: Callable[[], object] | None
    lane: StreamLane | None = None


class MultiStreamEngine(EngineLifecycle):
    """See the module docstring. Streams are added before :meth:`start`; callbacks receive
    the stream's name first and run on the engine thread (they must return quickly).
    ``stop() / close() / wait()`` and the context manager are
    :class:`~live_snn.engine.lifecycle.EngineLifecycle`'s."""

    stop_timeout_s = 10.0

    def __init__(self, config: EngineConfig | None = None):
        self.config = config or EngineConfig()
        self.device = resolve_device(self.config.device)
        self.counters = BatchCounters(self.config.latency_window)
        self._commands = CommandQueue()
        self._ended = threading.Event()
        self._streams: list[_Stream] = []
        self._subscriptions: list[tuple[str, Callable]] = []
        self._checkpoint = None
        self._runner: BatchedRunner | None = None
        self._loop: MultiRunLoop | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ setup
    def add(self, source, *, name: str | None = None,
            reopen: Callable[[], object] | None = None) -> str:
        """Add a stream: an EventSource (the engine takes ownership) or a spec for
        :func:`live_snn.sources.open_source`. A network spec is reopened after a drop (within
        the reconnection limits); ``reopen`` does the same for any other source. Returns the
        stream's name (``name``, or one made from the spec, unique within the engine)."""
        if self._thread is not None:
            raise LiveSnnError("streams are added before start()")
        source, spec = source_of(source, stall_timeout_s=self.config.stall_timeout_s)
        if spec is not None:
            from live_snn.sources.network import NetworkSource

            if reopen is None and is_network_spec(spec):
                def reopen(spec=spec, stall=self.config.stall_timeout_s):
                    return NetworkSource(spec, stall_timeout_s=stall)
        base = name or stream_name(spec or getattr(source, "description", "") or "stream")
        unique = unique_name(base, {s.name for s in self._streams})
        stream = _Stream(unique, source, spec, reopen)
        try:
            if self._checkpoint is not None:
                self._check_fits(stream, self._checkpoint)
        except BaseException:
            if spec is not None:  # opened here, so closed here
                source.close()
            raise
        self._streams.append(stream)
        return unique

    def load_model(self, model=None) -> None:
        """A checkpoint path, a LoadedCheckpoint, or None for the bundled default model;
        before the streams are described (:meth:`stream_info`) or started."""
        if any(s.lane is not None for s in self._streams):
            raise LiveSnnError("the model is loaded before the streams are described or started")
        model = checkpoint_of(model, self.device)
        for stream in self._streams:
            self._check_fits(stream, model)
        self._checkpoint = model

    def _check_fits(self, stream: _Stream, checkpoint) -> None:
        source = stream.source
        try:
            runtime_binning(checkpoint.binning, Resolution.of(source.resolution),
                            live=bool(source.is_live), allow_remap=self.config.allow_remap)
        except LiveSnnError as exc:
            raise type(exc)(f"stream {stream.name}: {exc}") from None

    def _lanes(self) -> list[StreamLane]:
        if self._checkpoint is None:
            raise LiveSnnError("no model yet: call load_model() first")
        if not self._streams:
            raise LiveSnnError("no streams yet: add() at least one source")
        for row, stream in enumerate(self._streams):
            if stream.lane is None:
                stream.lane = StreamLane(
                    stream.name, stream.source, row=row, config=self.config,
                    checkpoint=self._checkpoint, device=self.device, spec=stream.spec,
                    reopen=stream.reopen, on_wake=self._commands.wake.set)
                for kind, callback in self._subscriptions:
                    self._attach(stream.lane, kind, callback)
        return [s.lane for s in self._streams]

    @property
    def streams(self) -> list[str]:
        return [s.name for s in self._streams]

    def stream_info(self, name: str) -> SessionInfo:
        return self._lane(name).info

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        if self._thread is not None:
            raise LiveSnnError("engine already started")
        lanes = self._lanes()
        self._runner = BatchedRunner(self._checkpoint, self.device, rows=len(lanes),
                                     cuda_graph=self.config.cuda_graphs,
                                     keep_freed_memory=self.config.keep_freed_memory,
                                     conv_dtype=self.config.conv_dtype)
        self._loop = MultiRunLoop(self._runner, lanes, commands=self._commands,
                                  counters=self.counters, ended=self._ended,
                                  record_taps=self.config.record_taps,
                                  gather_ms=self.config.batch_gather_ms)
        self.counters.set_state("running")
        try:
            for lane in lanes:
                lane.start(self._runner)
        except BaseException:
            for lane in lanes:
                lane.close()
            raise
        self._start_thread(self._loop.run, "live-snn-streams")

    def reset(self, name: str | None = None) -> None:
        """Reset one stream's state (``name``) or every stream's, between bins."""
        if name is not None:
            self._lane(name)
        self._commands.put("reset", name)

    def _stop_unstarted(self) -> None:
        for stream in self._streams:
            if stream.lane is not None:
                stream.lane.close()
            else:
                stream.source.close()
        if self.counters.state == "idle":
            self.counters.set_state("stopped")

    # ------------------------------------------------------------------ observe
    def subscribe(self, callback: Callable[[str, Prediction], None]) -> None:
        """``callback(stream_name, prediction)`` for every bin of every stream."""
        self._subscribe("prediction", callback)

    def subscribe_status(self, callback: Callable[[str, EngineEvent], None]) -> None:
        """``callback(stream_name, event)``: started, stream_dropped, reconnecting,
        reconnected, reset, clock_jump, finished, failed, stopped."""
        self._subscribe("status", callback)

    def subscribe_batches(self, callback: Callable[[str, EventBatch], None]) -> None:
        """``callback(stream_name, batch)`` for every batch read from a stream's source."""
        self._subscribe("batch", callback)

    def _subscribe(self, kind: str, callback: Callable) -> None:
        if self._thread is not None:
            raise LiveSnnError("subscribe before start()")
        self._subscriptions.append((kind, callback))
        for stream in self._streams:
            if stream.lane is not None:
                self._attach(stream.lane, kind, callback)

    @staticmethod
    def _attach(lane: StreamLane, kind: str, callback: Callable) -> None:
        observers = lane.observers
        subscribers = {"prediction": observers.on_prediction, "status": observers.on_status,
                       "batch": observers.on_batch}[kind]
        observers.add(subscribers, lambda item, name=lane.name: callback(name, item))

    def latest(self, name: str, n: int = 1) -> list[Prediction]:
        """The newest ``n`` predictions of stream ``name``, oldest first."""
        return self._lane(name).observers.latest(n)

    def history(self, name: str) -> list[EngineEvent]:
        """Stream ``name``'s newest status events (what happened to it), oldest first."""
        return list(self._lane(name).history)

    def stats(self) -> MultiStreamStats:
        streams = {s.name: s.lane.counters.snapshot() for s in self._streams
                   if s.lane is not None}
        return self.counters.snapshot(streams)

    @property
    def error(self) -> BaseException | None:
        """Why the whole engine stopped early (the shared model failed), or None; each
        stream's own ending is in :meth:`stream_error` and its stats."""
        return None if self._loop is None else self._loop.error

    def stream_error(self, name: str) -> BaseException | None:
        return self._lane(name).error

    def _lane(self, name: str) -> StreamLane:
        for stream in self._streams:
            if stream.name == name:
                if stream.lane is None:
                    self._lanes()
                return stream.lane
        raise LiveSnnError(f"no stream named {name!r}; streams: {', '.join(self.streams)}")
