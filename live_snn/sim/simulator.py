"""The gesture simulator: a person (script + renderer) in front of an emulated DVS.

``GestureSimulator(config).session(n)`` gives a finished recording with its label track;
``GestureSimulator(config).stream()`` gives the same recording as it happens, chunk by
chunk, endless unless told otherwise (the live virtual camera). Session ``index`` of seed
``seed`` is the same recording every time, and a finite session is exactly the beginning
of the endless stream with the same seed and index.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from live_snn.events import EVENT_DTYPE, EventBatch, LabelTrack, Resolution
from live_snn.sim.appearance import Look
from live_snn.sim.body import BodyShape
from live_snn.sim.config import SimConfig
from live_snn.sim.dvs import DvsPixelArray, SensorSettings
from live_snn.sim.lighting import Lighting
from live_snn.sim.render import SceneRenderer
from live_snn.sim.script import GestureScript, SessionStyle
from live_snn.sim.steered import SteeredScript

_NOISE_BLOCK_US = 100_000
_POSES_PER_CALL = 2_000


@dataclass(frozen=True)
class SimSession:
    """A finished simulated recording: events ``[start_us, end_us)`` and their labels."""

    events: EventBatch
    labels: LabelTrack
    start_us: int
    end_us: int
    index: int

    @property
    def resolution(self) -> Resolution:
        return self.events.resolution


class SimStream(Iterator[EventBatch]):
    """A running session: iterating yields one :class:`EventBatch` per ``chunk_us`` of
    simulated time (possibly empty), in time order, until the session ends (never for an
    endless one). ``labels`` holds the gestures begun so far."""

    def __init__(
        self,
        config: SimConfig,
        *,
        index: int = 0,
        chunk_us: int = 10_000,
        classes: Sequence[int] | None = None,
        n_gestures: int | None = None,
        duration_s: float | None = None,
        steered: bool = False,
    ) -> None:
        if chunk_us <= 0:
            raise ValueError(f"chunk_us must be > 0, got {chunk_us}")
        if n_gestures is not None and n_gestures < 1:
            raise ValueError(f"n_gestures must be >= 1, got {n_gestures}")
        if duration_s is not None and not duration_s > 0:
            raise ValueError(f"duration_s must be > 0, got {duration_s}")
        if steered and (n_gestures is not None or duration_s is not None):
            raise ValueError("a steered session is endless: it takes no n_gestures or duration_s")
        self.config = config
        self.index = index
        self.chunk_us = int(chunk_us)
        seeds = np.random.SeedSequence(entropy=config.seed, spawn_key=(index,)).spawn(7)
        rng_body, rng_script, rng_sensor, rng_noise, rng_look, rng_light, rng_pixel = (
            np.random.default_rng(s) for s in seeds
        )
        body = BodyShape.random(rng_body, config.resolution, config.size_scale)
        style = SessionStyle.random(rng_body, config.speed_scale)
        self.look = Look.random(rng_look)
        self.lighting = Lighting.random(rng_light, config)
        # Steered: the person performs only what cue() asks for (same draws otherwise).
        script_kind = SteeredScript if steered else GestureScript
        self.script = script_kind(
            rng_script, config, body, style, classes=classes, max_gestures=n_gestures
        )
        if duration_s is not None:
            self.script.fit_duration(int(round(duration_s * 1e6)))
        elif n_gestures is not None:
            self.script.extend_to(np.iinfo(np.int64).max)  # draws exactly n_gestures
        self.renderer = SceneRenderer(config.resolution, body, self.look)
        self.sensor = DvsPixelArray(
            config, SensorSettings.random(rng_sensor, config), rng_sensor, rng_noise, self.lighting.level,
            rng_pixel,
        )
        self.start_us = config.t0_us
        self._rendered_us = config.t0_us  # time of the last render
        self._noise_us = config.t0_us  # noise has been drawn up to here
        self._emitted_us = config.t0_us  # events before this have been yielded
        self._pending = np.empty(0, dtype=EVENT_DTYPE)  # scene events not yet yielded
        self._pending_noise = np.empty(0, dtype=EVENT_DTYPE)
        first = self.script.pose_at(np.array([config.t0_us]))[0]
        self.sensor.start(self.renderer.render(first), float(self.lighting.factor(config.t0_us)))

    @property
    def end_us(self) -> int | None:
        """End of the session, or None while an endless session has no end."""
        return self.script.end_us

    @property
    def time_us(self) -> int:
        """Simulated time up to which events have been yielded."""
        return self._emitted_us

    @property
    def labels(self) -> LabelTrack:
        return self.script.label_track(until_us=self._emitted_us)

    def __iter__(self) -> SimStream:
        return self

    def cue(self, label: int, start_us: int, end_us: int) -> tuple[int, int] | None:
        """Steered sessions: perform class ``label`` over ``[start_us, end_us)``. What is
        already rendered cannot change, so a late cue starts at the next sub-frame; returns
        the span performed, or None when nothing of it is left."""
        if not isinstance(self.script, SteeredScript):
            raise ValueError("only a steered session (steered=True) takes cues")
        start = max(int(start_us), self._rendered_us + self.config.subframe_us,
                    self.script.cued_until_us)
        if start >= end_us:
            return None
        self.script.cue(label, start, int(end_us))
        return start, int(end_us)

    def __next__(self) -> EventBatch:
        end = self.end_us
        if end is not None and self._emitted_us >= end:
            raise StopIteration
        target = self._emitted_us + self.chunk_us
        if end is not None:
            target = min(target, end)
        return self.advance_to(target)

    def advance_to(self, t_us: int) -> EventBatch:
        """All events with ``time_us <= t < t_us`` (simulating as far as needed)."""
        if t_us < self._emitted_us:
            raise ValueError(f"cannot go back in time: at {self._emitted_us} µs, asked for {t_us} µs")
        self._simulate_until(t_us)
        self._draw_noise_until(t_us)
        split = int(np.searchsorted(self._pending["t"], t_us, side="left"))
        signal, self._pending = self._pending[:split], self._pending[split:]
        split = int(np.searchsorted(self._pending_noise["t"], t_us, side="left"))
        noise, self._pending_noise = self._pending_noise[:split], self._pending_noise[split:]
        batch = np.concatenate([signal, noise])
        # Stable sort: ties keep scene events before noise, whatever the chunking.
        batch = batch[np.argsort(batch["t"], kind="stable")]
        self._emitted_us = t_us
        return EventBatch(batch, self.config.resolution)

    def _draw_noise_until(self, t_us: int) -> None:
        """Noise is drawn in fixed blocks from t0, so the same seed gives the same noise
        however the stream is chunked."""
        block = _NOISE_BLOCK_US
        drawn = [self._pending_noise]
        while self._noise_us < t_us:
            drawn.append(self.sensor.noise(self._noise_us, self._noise_us + block))
            self._noise_us += block
        if len(drawn) > 1:
            self._pending_noise = np.concatenate(drawn)

    def _simulate_until(self, t_us: int) -> None:
        """Render and emulate sub-frames until the last render is at or after ``t_us``."""
        step = self.config.subframe_us
        if self._rendered_us >= t_us:
            return
        count = -(-(t_us - self._rendered_us) // step)
        chunks = [self._pending]
        previous = self._rendered_us
        for first in range(1, count + 1, _POSES_PER_CALL):  # poses a few thousand at a time
            times = previous + step * np.arange(min(_POSES_PER_CALL, count + 1 - first), dtype=np.int64) + step
            lights = self.lighting.factor(times).tolist()
            for t, joints, light in zip(times.tolist(), self.script.pose_at(times), lights, strict=True):
                image = self.renderer.render(joints)  # loop over sub-frames only
                chunks.append(self.sensor.step(image, previous, t, light))
                previous = t
        self._rendered_us = previous
        pending = np.concatenate(chunks)
        # A burst held by the refractory period may end after its sub-frame: keep time order.
        self._pending = pending[np.argsort(pending["t"], kind="stable")]


class GestureSimulator:
    """Makes simulated DVS128-Gesture-like recordings for one :class:`SimConfig`."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()

    def stream(
        self,
        *,
        index: int = 0,
        chunk_us: int = 10_000,
        classes: Sequence[int] | None = None,
        n_gestures: int | None = None,
        duration_s: float | None = None,
        steered: bool = False,
    ) -> SimStream:
        """Session ``index`` as it happens; endless unless ``n_gestures`` or ``duration_s``;
        ``steered``: the person performs only what :meth:`SimStream.cue` asks for."""
        return SimStream(
            self.config,
            index=index,
            chunk_us=chunk_us,
            classes=classes,
            n_gestures=n_gestures,
            duration_s=duration_s,
            steered=steered,
        )

    def session(
        self,
        n_gestures: int | None = None,
        *,
        duration_s: float | None = None,
        classes: Sequence[int] | None = None,
        index: int = 0,
    ) -> SimSession:
        """A whole session: ``n_gestures`` gestures each followed by a rest, or as many
        whole gestures as fit in ``duration_s`` (give one of the two)."""
        if (n_gestures is None) == (duration_s is None):
            raise ValueError("give exactly one of n_gestures and duration_s")
        stream = self.stream(
            index=index, chunk_us=1_000_000, classes=classes, n_gestures=n_gestures,
            duration_s=duration_s,
        )
        batches = list(stream)
        events = EventBatch.concatenate(batches) if batches else EventBatch.empty(self.config.resolution)
        end = stream.end_us
        assert end is not None  # a finite stream always has an end
        return SimSession(
            events=events,
            labels=stream.script.label_track(),
            start_us=stream.start_us,
            end_us=end,
            index=index,
        )
