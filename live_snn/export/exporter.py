"""Run the engine at full speed over ``[T0, T1)`` of a recording and feed the two export
sinks: an annotated video (:mod:`live_snn.export.render` + :mod:`live_snn.export.video`) and
the per-step data (:mod:`live_snn.export.npz`).

The model state at T0 is exactly what uninterrupted playback has there: the engine seeks
(restores a snapshot or replays from the start, silently) to ``T - 1`` bins before T0, and the
bins between fill the gate strip's history without being exported. The engine thread steps
the model while this thread renders and encodes; a small bounded queue between them keeps
memory flat (a file replay never skips a bin, the engine simply waits).
"""

from __future__ import annotations

import dataclasses
import math
import os
import queue
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

import live_snn
from live_snn.binning import bins_in
from live_snn.engine.config import EngineConfig
from live_snn.engine.engine import Engine
from live_snn.engine.records import Prediction, SessionInfo
from live_snn.engine.session import default_model_path
from live_snn.errors import LiveSnnError
from live_snn.export.npz import export_arrays, write_npz
from live_snn.export.render import FrameContent, FrameRenderer, RenderStyle
from live_snn.export.video import CODECS_BY_SUFFIX, VideoWriter
from live_snn.outputs import check_outputs, named
from live_snn.pacing import check_speed
from live_snn.sinks.jsonl import session_header
from live_snn.sources.base import EventSource
from live_snn.view.history import HistoryConfig, HistoryLayout, StepHistory

VIEWS = ("model", "sensor")
_QUEUE_BINS = 32          # predictions waiting for the renderer before the engine waits
_POLL_S = 0.1


@dataclass(frozen=True)
class ExportConfig:
    source: str | os.PathLike | EventSource  # a recording: a path / spec, or an open source
    model: str | Path | None = None        # checkpoint; None: the bundled default model
    video: Path | None = None              # .mp4 / .m4v / .mov / .mkv / .avi
    data: Path | None = None               # .npz
    start_s: float | None = None           # T0, seconds after the recording's first event
    end_s: float | None = None             # T1 (exclusive); None: to the end
    playback_speed: float = 1.0            # video frame rate = playback_speed / dt
    gate_layer: str | None = None          # attention layer in the gate strip; None: the last
    view: str = "model"                    # events drawn at "model" or "sensor" resolution
    engine: EngineConfig = field(default_factory=EngineConfig)
    style: RenderStyle = field(default_factory=RenderStyle)
    progress: bool = True                  # tqdm bar on stderr

    def __post_init__(self) -> None:
        if self.video is None and self.data is None:
            raise LiveSnnError("nothing to export: give a video path (--video), a data path "
                               "(--data) or both")
        for name in ("video", "data"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, Path(value))
        if self.video is not None and self.data is not None and \
                self.video.resolve() == self.data.resolve():
            raise LiveSnnError(f"the video and the data would both be written to {self.video}")
        if self.video is not None and self.video.suffix.lower() not in CODECS_BY_SUFFIX:
            raise LiveSnnError(
                f"cannot write video {self.video}: unknown container "
                f"'{self.video.suffix or '(none)'}', expected one of {', '.join(CODECS_BY_SUFFIX)}"
            )
        if self.data is not None and self.data.suffix.lower() != ".npz":
            raise LiveSnnError(f"the data file must end in .npz, got {self.data}")
        for name in ("start_s", "end_s"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise LiveSnnError(f"--{'from' if name == 'start_s' else 'to'} must be a number "
                                   f"of seconds >= 0, got {value}")
        if self.start_s is not None and self.end_s is not None and self.end_s <= self.start_s:
            raise LiveSnnError(f"--to ({self.end_s} s) must come after --from ({self.start_s} s)")
        check_speed(self.playback_speed, what="playback speed", fastest=None)
        if self.view not in VIEWS:
            raise LiveSnnError(f"view must be one of {VIEWS}, got {self.view!r}")


@dataclass(frozen=True)
class ExportResult:
    first_bin: int
    last_bin: int                          # inclusive
    bins: int                              # bins exported (= video frames = npz rows)
    t_start_s: float                       # first exported bin's start, since recording start
    t_end_s: float                         # last exported bin's end
    video: Path | None
    data: Path | None
    codec: str | None
    fps: float | None
    frame_size: tuple[int, int] | None     # (width, height)
    gate_layer: str | None
    wall_s: float
    error: str | None = None               # the recording ended early (damage): what happened
    uncertain_note: str = ""               # SessionInfo.uncertain_note of the run


def bins_to_export(info: SessionInfo, start_s: float | None, end_s: float | None) -> range:
    """Indices of the bins that overlap ``[start_s, end_s)`` (seconds since the recording's
    first event); bin k covers ``[k·dt, (k+1)·dt)``."""
    dt, total = info.dt_us, info.num_bins
    duration_s = (info.end_us - info.start_us) / 1e6
    first = 0
    if start_s is not None:
        t0 = round(start_s * 1e6)
        if t0 >= total * dt:
            raise LiveSnnError(f"--from {start_s} s is past the end of {info.source_description} "
                               f"({duration_s:.3f} s, {total} bins of {dt / 1000:g} ms)")
        first = t0 // dt
    stop = total
    if end_s is not None:
        stop = min(total, bins_in(round(end_s * 1e6), dt))
    if stop <= first:
        raise LiveSnnError(f"--from {start_s or 0} s --to {end_s} s selects no bin of "
                           f"{info.source_description} (bins of {dt / 1000:g} ms)")
    return range(first, stop)


def choose_gate_layer(info: SessionInfo, wanted: str | None) -> str | None:
    layers = info.attention_layers
    if wanted is None:
        return layers[-1] if layers else None
    if wanted not in layers:
        known = ", ".join(layers) if layers else "none (the model has no attention layer)"
        raise LiveSnnError(f"no attention layer {wanted!r} in the model; its layers: {known}")
    return wanted


class _VideoSink:
    """Prediction -> rendered frame -> video file; keeps the gate history of the strip."""

    def __init__(self, path: Path, info: SessionInfo, config: ExportConfig,
                 gate_layer: str | None, title: str):
        self.view = config.view
        if self.view == "sensor":
            frame_shape = (info.sensor.height, info.sensor.width)
        else:
            frame_shape = (info.model_resolution.height, info.model_resolution.width)
        style = dataclasses.replace(config.style, gate_steps=info.window_steps)
        self.renderer = FrameRenderer(frame_shape, info.class_names, gate_layer=gate_layer,
                                      title=title, style=style)
        self.gate_layer = gate_layer
        self.gates: deque[np.ndarray] = deque(maxlen=info.window_steps)
        self.start_us = info.start_us
        self.fps = config.playback_speed * 1e6 / info.dt_us
        self.writer = VideoWriter(path, self.fps, self.renderer.size)

    def observe(self, prediction: Prediction) -> None:
        """A bin before the range: only its gate, for the strip's history."""
        if self.gate_layer is not None:
            self.gates.append(prediction.attention[self.gate_layer]["gate"])

    def add(self, prediction: Prediction) -> None:
        self.observe(prediction)
        counts = prediction.frame if self.view == "model" else prediction.sensor_frame
        content = FrameContent(
            counts=counts,
            probabilities=prediction.smoothed,
            raw_probabilities=prediction.probs,
            label=prediction.label,
            confidence=prediction.confidence,
            uncertain=prediction.uncertain,
            bin_index=prediction.bin,
            t_start_s=(prediction.t_start_us - self.start_us) / 1e6,
            t_end_s=(prediction.t_end_us - self.start_us) / 1e6,
            events=prediction.events,
            ground_truth=prediction.ground_truth,
            gate_strip=np.stack(self.gates) if self.gates else None,
        )
        self.writer.write(self.renderer.render(content))


def export(config: ExportConfig) -> ExportResult:
    """Export ``config.source`` over the chosen range; see the module docstring."""
    started = time.perf_counter()
    model_path = default_model_path() if config.model is None else Path(config.model)
    recording = (named("the recording", config.source)
                 if isinstance(config.source, (str, os.PathLike)) else None)
    check_outputs([named("--video", config.video), named("--data", config.data)],
                  inputs=[recording, named("the model", model_path)])
    from live_snn.model import load_checkpoint

    engine_config = dataclasses.replace(config.engine, speed=None, record_taps=True,
                                        keep_sensor_frames=config.view == "sensor")
    engine = Engine(engine_config)
    video: _VideoSink | None = None
    try:
        engine.open(config.source)
        checkpoint = load_checkpoint(model_path, device=engine.device)
        engine.load_model(checkpoint)
        info = engine.session_info()
        if not info.seekable:
            raise LiveSnnError(
                f"cannot export {info.source_description}: it is a live source; record it "
                "first (live-snn record) and export the recording")
        wanted = bins_to_export(info, config.start_s, config.end_s)
        gate_layer = choose_gate_layer(info, config.gate_layer)
        name = (Path(config.source).name if isinstance(config.source, (str, os.PathLike))
                else info.source_description)
        title = f"{name} | {info.model_sha256[:8]}"
        if config.video is not None:
            video = _VideoSink(config.video, info, config, gate_layer, title)
        # Every exported bin is kept (no frames): the .npz is written from this history.
        data = StepHistory(HistoryConfig(capacity_steps=len(wanted), frame_budget_bytes=0),
                           layout=HistoryLayout.of_session(info)) if config.data else None
        # T - 1 bins before the range give the gate strip its history at the first frame.
        lead_in = wanted.start - max(0, wanted.start - (info.window_steps - 1))
        exported, error = _run(engine, info, wanted, lead_in, video, data, config.progress)
        if exported == 0:
            raise LiveSnnError(f"no bins exported from {info.source_description}: "
                               f"{error or 'the engine produced none'}")
        last = wanted.start + exported - 1
        if video is not None:
            video.writer.close()
        if data is not None:
            arrays = export_arrays(data, info.class_names, t0_us=info.start_us)
            write_npz(config.data, arrays, _metadata(
                info, checkpoint, config, wanted.start, last, gate_layer, error))
    except BaseException:
        if video is not None:
            video.writer.abort()
        raise
    finally:
        engine.close()
    dt_s = info.dt_us / 1e6
    return ExportResult(
        first_bin=wanted.start,
        last_bin=last,
        bins=exported,
        t_start_s=wanted.start * dt_s,
        t_end_s=(last + 1) * dt_s,
        video=config.video,
        data=config.data,
        codec=None if video is None else video.writer.codec,
        fps=None if video is None else video.fps,
        frame_size=None if video is None else video.renderer.size,
        gate_layer=gate_layer,
        wall_s=time.perf_counter() - started,
        error=error,
        uncertain_note=info.uncertain_note,
    )


def _run(engine: Engine, info: SessionInfo, wanted: range, lead_in: int,
         video: _VideoSink | None, data: StepHistory | None,
         progress: bool) -> tuple[int, str | None]:
    """Drive the engine over ``wanted`` (plus ``lead_in`` bins before it) and feed the sinks
    on this thread; returns (bins exported, why the recording ended early or None)."""
    first_run = wanted.start - lead_in
    last = wanted.stop - 1
    handoff: queue.Queue[Prediction] = queue.Queue(maxsize=_QUEUE_BINS)
    abandon = threading.Event()

    def on_prediction(prediction: Prediction) -> None:  # engine thread
        if not first_run <= prediction.bin <= last:
            return
        while not abandon.is_set():
            try:
                handoff.put(prediction, timeout=_POLL_S)
                break
            except queue.Full:
                continue
        if prediction.bin >= last:
            engine.stop()  # from the engine thread: applied before the next bin

    engine.subscribe(on_prediction)
    if first_run > 0:
        engine.seek(info.start_us + first_run * info.dt_us)
    exported = 0
    # Reaching T0 (a silent fast-forward) can take a while in a long recording: say so.
    bar = tqdm(total=len(wanted), unit="bin", desc="export (seeking)" if first_run else "export",
               file=sys.stderr, disable=not progress, dynamic_ncols=True)
    try:
        engine.start()
        while True:
            try:
                prediction = handoff.get(timeout=_POLL_S)
            except queue.Empty:
                if engine.wait(0) and handoff.empty():
                    break
                continue
            if prediction.bin < wanted.start:
                if video is not None:
                    video.observe(prediction)
                continue
            if exported == 0 and first_run:
                bar.set_description("export")
            expected = wanted.start + exported
            if prediction.bin != expected:
                raise LiveSnnError(f"the engine delivered bin {prediction.bin} where bin "
                                   f"{expected} was expected")
            if video is not None:
                video.add(prediction)
            if data is not None:
                data.append([prediction])
            exported += 1
            bar.update(1)
            if prediction.bin >= last:
                break
    finally:
        abandon.set()
        bar.close()
        engine.stop()
    stats = engine.stats()
    if stats.state == "failed":
        if isinstance(engine.error, LiveSnnError):
            raise engine.error
        raise LiveSnnError(f"the engine failed at bin {wanted.start + exported}: {stats.error}")
    error = stats.error
    if error is None and exported < len(wanted):
        error = f"the recording ended after bin {wanted.start + exported - 1}"
    return exported, error


def _metadata(info: SessionInfo, checkpoint, config: ExportConfig, first: int, last: int,
              gate_layer: str | None, error: str | None) -> dict:
    header = session_header(info)
    for key in ("type", "format"):
        header.pop(key, None)
    engine = config.engine
    header.update({
        "live_snn_version": live_snn.__version__,
        # The checkpoint's own form, so that BinningConfig.from_dict() reads it back.
        "binning": info.binning.as_dict(),
        "model_config": checkpoint.config.to_dict(),
        "readout": dict(checkpoint.readout),
        "trained_binning": checkpoint.binning.as_dict(),
        "predictor": {
            **dataclasses.asdict(info.predictor),
            "reset_on_silence_ms": engine.reset_on_silence_ms,
        },
        "attention_layers": list(info.attention_layers),
        "spiking_layers": list(info.spiking_layers),
        "source_spec": (os.fspath(config.source)
                        if isinstance(config.source, (str, os.PathLike)) else None),
        "from_s": config.start_s,
        "to_s": config.end_s,
        "first_bin": first,
        "last_bin": last,
        "video": None if config.video is None else str(config.video),
        "video_gate_layer": gate_layer,
        "ended_early": error,
    })
    return header
