"""Session set-up: the source and the model of a run, and what is built from both before a
bin is processed — the runtime binning, the feed that turns the source into closed bins, the
replay's snapshot store, and the :class:`~live_snn.engine.records.SessionInfo` consumers
read. The run loop (:mod:`live_snn.engine.run_loop`) only uses what is set up here."""

from __future__ import annotations

import dataclasses
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path

import torch

from live_snn.binning import BinningConfig
from live_snn.engine.config import EngineConfig
from live_snn.engine.frame_cutter import ClosedBin
from live_snn.engine.live import LiveFeed
from live_snn.engine.predictor import Predictor, PredictorConfig
from live_snn.engine.records import SessionInfo
from live_snn.engine.replay import ReplayFeed
from live_snn.engine.runner import ModelRunner
from live_snn.engine.snapshots import SnapshotStore
from live_snn.errors import BinningError, CheckpointError, CheckpointMismatchError
from live_snn.events import EventBatch, Resolution

DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[1] / "assets" / "default_lite.safetensors"


def default_model_path() -> Path:
    """The bundled model, used when no checkpoint is given; a clear error when it is missing."""
    if not DEFAULT_MODEL_PATH.is_file():
        raise CheckpointError(
            f"no model given and no bundled model found (looked for {DEFAULT_MODEL_PATH}); "
            "pass a checkpoint with --model"
        )
    return DEFAULT_MODEL_PATH


def checkpoint_of(model, device: torch.device):
    """What ``load_model`` is given, loaded: a checkpoint path, a LoadedCheckpoint (as it is)
    or None for the bundled default model."""
    from live_snn.model import LoadedCheckpoint, load_checkpoint

    if model is None:
        model = default_model_path()
    if not isinstance(model, LoadedCheckpoint):
        model = load_checkpoint(model, device=device)
    return model


def source_of(source, *, stall_timeout_s: float | None) -> tuple[object, str | None]:
    """What an engine is given as a source, and its spec: an EventSource as it is (spec None),
    or a spec for :func:`live_snn.sources.open_source` opened unpaced (the engine paces it)."""
    if not isinstance(source, (str, os.PathLike)):
        return source, None
    from live_snn.sources import open_source  # dv-processing loads only when needed

    spec = os.fspath(source)
    return open_source(spec, speed=None, stall_timeout_s=stall_timeout_s), spec


def silence_bins(silence_ms: float | None, dt_us: int) -> int | None:
    """How many empty bins in a row make the silence that resets the model (at least one),
    or None when silence never resets it."""
    return None if silence_ms is None else max(1, math.ceil(silence_ms * 1e3 / dt_us))


def runtime_binning(trained: BinningConfig, sensor: Resolution, *, live: bool,
                    allow_remap: bool = False) -> BinningConfig:
    """The binning to run a checkpoint on a source: dt and model resolution from training,
    sensor resolution from the source. On the training's sensor the training's crop and
    downscale are used. Another sensor needs a mapping the model never saw in training (a
    crop of a different part of the scene, another downscale): that is refused unless
    ``allow_remap``, and then chosen automatically (centred crop, largest integer downscale).
    Live sources drop late (time-reversed) events instead of failing."""
    if sensor != trained.sensor and not allow_remap:
        try:
            remapped = trained.for_sensor(sensor).mapping().describe()
        except BinningError as exc:
            remapped = f"no mapping at all ({exc})"
        raise CheckpointMismatchError(
            f"the model was trained on {trained.mapping().describe()}; this {sensor} source "
            f"would be mapped as {remapped}, which its training never used: pass "
            "--allow-remap to run it anyway"
        )
    try:
        binning = trained.for_sensor(sensor)
    except BinningError as exc:
        raise CheckpointMismatchError(
            f"the model expects {trained.model} frames (trained on a {trained.sensor} sensor) "
            f"but the source is a {sensor} sensor that cannot be mapped onto it: {exc}"
        ) from None
    if live and not binning.tolerate_time_reversal:
        binning = dataclasses.replace(binning, tolerate_time_reversal=True)
    return binning


def is_network_spec(spec: str) -> bool:
    """tcp://host:port, unix:/path, or the path of an existing Unix socket."""
    if spec.startswith(("tcp://", "unix:")):
        return True
    try:
        return stat.S_ISSOCK(os.stat(spec).st_mode)
    except (OSError, ValueError):
        return False


def describe_session(source, checkpoint, binning: BinningConfig, *, live: bool,
                     seekable: bool, replay: ReplayFeed | None, device: torch.device,
                     config: EngineConfig, predictor: PredictorConfig) -> SessionInfo:
    """The :class:`SessionInfo` of the model of ``checkpoint`` on ``source``, run under
    ``config`` with ``predictor``'s settings."""
    model = checkpoint.model
    return SessionInfo(
        source_description=source.description,
        is_live=live,
        seekable=seekable,
        binning=binning,
        start_us=None if replay is None else replay.start_us,
        end_us=None if replay is None else replay.end_us,
        class_names=tuple(checkpoint.class_names),
        attention_channels=dict(model.attention_channels),
        spiking_layers=tuple(model.spiking_layers),
        window_steps=int(checkpoint.config.T),
        streams_by_step=bool(model.streams_by_step),
        device=str(device),
        has_labels=getattr(source, "labels", None) is not None,
        model_sha256=checkpoint.sha256,
        model_path=None if checkpoint.path is None else str(checkpoint.path),
        conv_dtype=config.conv_dtype,
        predictor=predictor,
        uncertain_note=config.uncertain_note(PredictorConfig.from_readout(checkpoint.readout),
                                             checkpoint.uncertain_fitted_under),
    )


def open_live_feed(config: EngineConfig, source, binning: BinningConfig, *,
                   on_batch: Callable[[EventBatch], None],
                   on_skip: Callable[[ClosedBin], None],
                   on_jump: Callable[[str], None],
                   on_arrival: Callable[[], None] | None = None) -> LiveFeed:
    """A live feed of ``source`` under the engine's settings (its reader starts now)."""
    return LiveFeed(
        source, binning,
        on_batch=on_batch, on_skip=on_skip,
        skip_oldest=config.backpressure == "skip-oldest",
        max_pending=config.max_pending_bins,
        max_queued_batches=config.live_queue_batches,
        silence_margin_ms=config.live_silence_margin_ms,
        keep_sensor_frames=config.keep_sensor_frames,
        chunk_bins=config.chunk_bins,
        max_jump_us=(None if config.live_max_jump_s is None
                     else int(config.live_max_jump_s * 1e6)),
        on_jump=on_jump,
        on_arrival=on_arrival,
    )


class Session:
    """The source and the model of one engine, and everything built from both once both are
    there (:meth:`prepare`). Touched by the engine thread only, or before it starts.

    ``on_batch`` sees every batch read from the source; ``on_skip`` every bin that a live
    feed's backpressure drops."""

    def __init__(self, config: EngineConfig, device: torch.device, *,
                 on_batch: Callable[[EventBatch], None],
                 on_skip: Callable[[ClosedBin], None],
                 on_jump: Callable[[str], None] = lambda message: None):
        self.config = config
        self.device = device
        self._on_batch = on_batch
        self._on_skip = on_skip
        self._on_jump = on_jump
        self.source = None
        self.spec: str | None = None
        self.source_closed = False
        self.live = False
        self.seekable = False
        self.reconnectable = False
        self.checkpoint = None
        self.runner: ModelRunner | None = None
        self.predictor: Predictor | None = None
        self.binning: BinningConfig | None = None
        self.info: SessionInfo | None = None
        self.feed: ReplayFeed | LiveFeed | None = None
        self.store: SnapshotStore | None = None
        self.silence_bins: int | None = None     # empty bins before a reset on silence

    def missing(self) -> list[str]:
        """What the session still needs before it can run."""
        return [what for what, have in (("a source", self.source), ("a model", self.checkpoint))
                if have is None]

    def check_fits(self, *, source=None, checkpoint=None) -> None:
        """Refuse a new ``source`` or ``checkpoint`` (before letting go of the current one)
        if the model cannot run on the source."""
        source = source if source is not None else self.source
        checkpoint = checkpoint if checkpoint is not None else self.checkpoint
        if source is not None and checkpoint is not None:
            runtime_binning(checkpoint.binning, Resolution.of(source.resolution),
                            live=bool(source.is_live), allow_remap=self.config.allow_remap)

    def use_source(self, source, spec: str | None) -> None:
        """Take ``source`` (opened from ``spec``, if any) in place of the current one."""
        self.close_feed()
        self.source, self.spec = source, spec
        self.source_closed = False
        self.live = bool(source.is_live)
        self.seekable = not self.live and hasattr(source, "seek")
        # Decided now: a Unix socket file may be gone by the time the stream drops.
        self.reconnectable = spec is not None and is_network_spec(spec)

    def use_model(self, checkpoint) -> None:
        self.checkpoint = checkpoint
        self.runner = ModelRunner(checkpoint, self.device, cuda_graph=self.config.cuda_graphs,
                                  keep_freed_memory=self.config.keep_freed_memory,
                                  conv_dtype=self.config.conv_dtype)
        self.predictor = Predictor(
            self.config.predictor_config(PredictorConfig.from_readout(checkpoint.readout)),
            self.runner.num_classes
        )

    def prepare(self, *, reset_state: bool, new_model: bool,
                retire_binner: Callable[[], None]) -> bool:
        """(Re)build everything that depends on both the source and the model; False while
        one of them is missing. ``retire_binner`` is called before a live feed rebins for a
        new model (its binner's drop counts are kept)."""
        if self.source is None or self.checkpoint is None:
            return False
        self.binning = runtime_binning(self.checkpoint.binning,
                                       Resolution.of(self.source.resolution), live=self.live,
                                       allow_remap=self.config.allow_remap)
        if reset_state:
            self.runner.reset()
            self.predictor.reset()
        self.store = SnapshotStore(self.config.snapshot_every,
                                   int(self.config.snapshot_budget_mb * 2**20))
        self.silence_bins = silence_bins(self.config.reset_on_silence_ms, self.binning.dt_us)
        if self.feed is None or self.feed.source is not self.source:
            if not self.live:  # a live feed starts on the engine thread (open_live_feed)
                self.feed = ReplayFeed(self.source, self.binning, on_batch=self._on_batch,
                                       keep_sensor_frames=self.config.keep_sensor_frames,
                                       chunk_bins=self.config.chunk_bins)
        elif new_model:
            # Same source, another model: a recording replays from its start; a live stream
            # goes on, binned for the new model from the next batch.
            retire_binner()
            self.feed.rebin(self.binning)
        self.info = self.describe()
        return True

    def describe(self) -> SessionInfo:
        return describe_session(self.source, self.checkpoint, self.binning,
                                live=self.live, seekable=self.seekable,
                                replay=None if self.live else self.feed, device=self.device,
                                config=self.config, predictor=self.predictor.config)

    def open_live_feed(self) -> LiveFeed:
        """The live feed, started on the engine thread so that nothing is read before
        start()."""
        self.feed = open_live_feed(self.config, self.source, self.binning,
                                   on_batch=self._on_batch, on_skip=self._on_skip,
                                   on_jump=self._on_jump)
        return self.feed

    def close_feed(self) -> None:
        """Close the source (through its feed, which may own a reader thread)."""
        feed, self.feed = self.feed, None
        if feed is not None:
            feed.close()
        elif self.source is not None and not self.source_closed:
            self.source.close()
        self.source_closed = True
