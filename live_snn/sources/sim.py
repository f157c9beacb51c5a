"""The gesture simulator as a live virtual camera (``sim:`` source spec).

It produces an endless simulated session at real time (or ``speed`` times real time, or
as fast as the consumer takes it), and exposes the label track of the gestures performed
so far, so the GUI and the headless runner can show ground truth next to predictions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.errors import LiveSnnError, SourceError
from live_snn.events import EventBatch, LabelTrack
from live_snn.pacing import Pacer, check_speed
from live_snn.sim.config import SimConfig
from live_snn.sim.options import parse_gesture_classes, parse_resolution
from live_snn.sim.simulator import GestureSimulator, SimStream
from live_snn.sources.base import EventSource

# spec key -> what it sets, for the help text and error messages
SPEC_KEYS: dict[str, str] = {
    "seed": "integer seed (default 0)",
    "session": "session index under that seed (default 0)",
    "speed": "x times real time, or 'max' for as fast as possible (default 1)",
    "resolution": "WIDTHxHEIGHT (default 128x128)",
    "gesture": "classes to perform, numbers 1..11 or names joined by '+' (default all)",
    "chunk_ms": "simulated milliseconds per batch (default 10)",
    "noise_hz": "background-activity rate per pixel (default: drawn per session, 0.15-0.6)",
    "threshold": "DVS contrast threshold, log intensity (default: drawn per session, 0.12-0.2)",
    "hot_pixels": "number of hot pixels (default: drawn per session, 0-2)",
    "lighting": "fluorescent, led or natural (default: drawn per session)",
    "light": "room brightness, 1 = an office, lower = dimmer (default: drawn per session)",
    "tempo": "the person's gesture tempo, x their own (default 1)",
    "size": "the person's size in the frame, x their own (default 1)",
}


class SimulatorSource(EventSource):
    """Endless simulated gesture session, delivered like a camera delivers events.

    ``speed``: 1.0 = real time (each batch is handed out once its simulated time has
    passed on ``time.monotonic``), x = x times real time, None = as fast as consumed.
    If the consumer is slower than that, batches are not dropped: the stream falls
    behind the wall clock, as a camera's buffered stream would.
    """

    is_live = True

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        speed: float | None = 1.0,
        chunk_us: int = 10_000,
        classes: Sequence[int] | None = None,
        session: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.speed = check_speed(speed, what="simulator speed", error=SourceError)
        self.config = config or SimConfig()
        self.resolution = self.config.resolution
        self._clock = clock
        self._closed = threading.Event()
        try:
            self._stream: SimStream = self._open_stream(session, chunk_us, classes)
        except ValueError as exc:
            raise SourceError(f"cannot start the simulator: {exc}") from exc
        pace = "as fast as possible" if speed is None else f"{speed:g}x real time"
        only = "" if classes is None else ", gestures " + "+".join(str(c + 1) for c in classes)
        self.description = (
            f"gesture simulator (seed {self.config.seed}, session {session}, "
            f"{self.resolution}, {pace}{only})"
        )

    def _open_stream(self, session: int, chunk_us: int, classes: Sequence[int] | None) -> SimStream:
        """The simulated session behind the source (a subclass may steer it)."""
        return GestureSimulator(self.config).stream(index=session, chunk_us=chunk_us,
                                                    classes=classes)

    @classmethod
    def from_spec(cls, spec: str) -> SimulatorSource:
        """``sim:`` or ``sim:key=value,...`` with keys from :data:`SPEC_KEYS`."""
        text = spec.strip()
        if text != "sim" and not text.startswith("sim:"):
            raise SourceError(f"not a simulator spec (expected 'sim:' or 'sim:key=value,...'): {spec!r}")
        options: dict[str, str] = {}
        for item in text[4:].split(","):
            if not item.strip():
                continue
            key, sep, value = item.partition("=")
            key = key.strip().lower()
            if not sep or not value.strip():
                raise SourceError(f"simulator spec {spec!r}: {item!r} must be key=value")
            if key not in SPEC_KEYS:
                known = "; ".join(f"{k}: {v}" for k, v in SPEC_KEYS.items())
                raise SourceError(f"simulator spec {spec!r}: unknown key {key!r}; known keys: {known}")
            options[key] = value.strip()
        return cls._from_options(spec, options)

    @classmethod
    def _from_options(cls, spec: str, options: dict[str, str]) -> SimulatorSource:
        def number(key: str, kind: Callable[[str], float], default):
            if key not in options:
                return default
            try:
                return kind(options[key])
            except ValueError:
                raise SourceError(
                    f"simulator spec {spec!r}: {key}={options[key]!r} is not a valid "
                    f"{kind.__name__} ({SPEC_KEYS[key]})"
                ) from None

        config = SimConfig()
        try:
            changes = {
                "seed": number("seed", int, config.seed),
                "noise_hz": number("noise_hz", float, config.noise_hz),
                "threshold": number("threshold", float, config.threshold),
                "hot_pixels": number("hot_pixels", int, config.hot_pixels),
                "light_level": number("light", float, config.light_level),
                "speed_scale": number("tempo", float, config.speed_scale),
                "size_scale": number("size", float, config.size_scale),
            }
            if "lighting" in options:
                changes["lighting"] = options["lighting"].lower()
            if "resolution" in options:
                changes["resolution"] = parse_resolution(options["resolution"])
            config = replace(config, **changes)
            classes = parse_gesture_classes([options["gesture"]]) if "gesture" in options else None
        except SourceError:
            raise
        except (ValueError, LiveSnnError) as exc:
            raise SourceError(f"simulator spec {spec!r}: {exc}") from exc
        speed_text = options.get("speed", "1").lower()
        speed = None if speed_text in ("max", "inf", "0") else number("speed", float, 1.0)
        check_speed(speed, what=f"simulator spec {spec!r}: speed", fastest="'max'",
                    error=SourceError)
        chunk_ms = number("chunk_ms", float, 10.0)
        if not chunk_ms > 0:
            raise SourceError(f"simulator spec {spec!r}: chunk_ms must be > 0, got {chunk_ms}")
        return cls(
            config,
            speed=speed,
            chunk_us=max(1, int(round(chunk_ms * 1000))),
            classes=classes,
            session=number("session", int, 0),
        )

    @property
    def labels(self) -> LabelTrack:
        """Gestures performed so far (those begun before the last batch handed out)."""
        return self._stream.labels

    @property
    def class_names(self) -> tuple[str, ...]:
        return DVS_GESTURE_CLASSES

    @property
    def time_us(self) -> int:
        """Simulated time handed out so far."""
        return self._stream.time_us

    def __iter__(self) -> Iterator[EventBatch]:
        pacer = None if self.speed is None else Pacer(self.speed, clock=self._clock)
        if pacer is not None:
            pacer.start_at(self._stream.time_us)
        for batch in self._stream:
            if self._closed.is_set():
                return
            if pacer is not None:
                # A batch is due when the simulated time it ends at is. Waiting on the close
                # flag: close() from another thread ends the wait at once.
                pacer.wait(pacer.due(self._stream.time_us), self._closed)
                if self._closed.is_set():
                    return
            yield batch

    def close(self) -> None:
        self._closed.set()

    def __enter__(self) -> SimulatorSource:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
