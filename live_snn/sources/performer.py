"""Sources for a teaching session: someone performs what the session prompts.

In front of a camera that someone is a person, who reads the prompt; the source needs to
know nothing. The simulator has no person who reads, so :class:`SimPerformerSource` is one:
a simulated person (``sim:`` spec, all its keys) who rests until prompted and then performs
the simulator gesture that the prompted class stands for. Prompted names map to simulator
gestures through ``performs`` (``{"swipe": "right-hand-wave"}``); a DVS128 class name maps
to itself.

A teaching session talks to any source through :class:`Performer` alone, so it never knows
whether a person or the simulator is in front of the sensor.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from live_snn.errors import LiveSnnError, SourceError
from live_snn.events import EventBatch, LabelTrack
from live_snn.sim.options import gesture_choices, parse_gesture_class
from live_snn.sim.simulator import SimStream
from live_snn.sources.base import EventSource
from live_snn.sources.sim import SimulatorSource

# A person starts a prompted gesture this long after "go" and stops this long before the
# take ends (seconds, drawn per take): what a real person's take looks like to the labels.
REACTION_S = (0.15, 0.35)
EARLY_STOP_S = (0.0, 0.15)


@runtime_checkable
class Performer(Protocol):
    """A source that performs on cue: ``perform(name, start_us, end_us)`` is told, ahead
    of time, which class the prompt asks for over ``[start_us, end_us)`` (source time)."""

    def check_can_perform(self, names: Sequence[str]) -> None: ...

    def perform(self, name: str, start_us: int, end_us: int) -> None: ...


def parse_performs(items: Sequence[str]) -> dict[str, str]:
    """``["swipe=right-hand-wave", ...]`` (the ``--perform`` option) -> ``{name: gesture}``."""
    performs: dict[str, str] = {}
    for item in items:
        name, sep, gesture = item.partition("=")
        if not sep or not name.strip() or not gesture.strip():
            raise SourceError(f"--perform {item!r} must be NAME=GESTURE, e.g. "
                              "swipe=right-hand-wave")
        performs[name.strip()] = gesture.strip()
    return performs


def open_teaching_source(spec: str, performs: Mapping[str, str] | None = None) -> EventSource:
    """The source of a teaching session: a simulated person for ``sim:`` specs, else the
    source ``spec`` names (where a real person performs, and ``performs`` has no place)."""
    text = spec.strip()
    if text == "sim" or text.startswith("sim:"):
        return SimPerformerSource.from_spec(text).with_performs(performs or {})
    if performs:
        raise SourceError(f"--perform tells the simulated person what to do; {spec!r} is not "
                          "the simulator (sim:...): whoever is in front of it performs")
    from live_snn.sources.spec import open_source

    return open_source(text)


class _SerialStream(Iterator[EventBatch]):
    """The simulated stream, rendered on the reader's thread while cues come from the
    session's: one lock between the two."""

    def __init__(self, stream: SimStream) -> None:
        self._stream = stream
        self.lock = threading.Lock()

    def __iter__(self) -> _SerialStream:
        return self

    def __next__(self) -> EventBatch:
        with self.lock:
            return next(self._stream)

    @property
    def time_us(self) -> int:
        return self._stream.time_us

    @property
    def labels(self) -> LabelTrack:
        with self.lock:
            return self._stream.labels

    def cue(self, label: int, start_us: int, end_us: int) -> tuple[int, int] | None:
        with self.lock:
            return self._stream.cue(label, start_us, end_us)


class SimPerformerSource(SimulatorSource):
    """The simulator as a person who performs what a teaching session prompts (see the
    module docstring); between prompts they stand at rest."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._stream = _SerialStream(self._stream)  # type: ignore[assignment]
        self._performs: dict[str, int] = {}
        self._rng = np.random.default_rng([self.config.seed, 0x7EAC])
        self.description = self.description.replace("gesture simulator",
                                                    "simulated person performing the prompts")

    def _open_stream(self, session: int, chunk_us: int, classes) -> SimStream:
        from live_snn.sim.simulator import GestureSimulator

        return GestureSimulator(self.config).stream(index=session, chunk_us=chunk_us,
                                                    steered=True)

    def with_performs(self, performs: Mapping[str, str]) -> SimPerformerSource:
        """Which simulator gesture each prompted name stands for (any spelling
        ``sim:gesture=`` takes)."""
        for name, gesture in performs.items():
            try:
                self._performs[_key(name)] = parse_gesture_class(gesture)
            except LiveSnnError as exc:
                raise SourceError(f"--perform {name}={gesture}: {exc}") from None
        return self

    def gesture_for(self, name: str) -> int | None:
        """The simulator gesture (0-based) performed for the prompted class ``name``."""
        if _key(name) in self._performs:
            return self._performs[_key(name)]
        try:
            return parse_gesture_class(name)
        except LiveSnnError:
            return None

    def check_can_perform(self, names: Sequence[str]) -> None:
        missing = [n for n in names if self.gesture_for(n) is None]
        if missing:
            example = f"--perform '{missing[0]}=right-hand-wave'"
            raise SourceError(
                f"the simulated person cannot perform {', '.join(map(repr, missing))}: say "
                f"which simulator gesture each stands for, e.g. {example} (gestures: "
                f"{gesture_choices()})")

    def perform(self, name: str, start_us: int, end_us: int) -> None:
        label = self.gesture_for(name)
        if label is None:
            raise SourceError(f"the simulated person cannot perform {name!r}")
        delay, early = self._rng.uniform(*REACTION_S), self._rng.uniform(*EARLY_STOP_S)
        self._stream.cue(label, start_us + int(delay * 1e6), end_us - int(early * 1e6))


def _key(name: str) -> str:
    return " ".join(name.lower().split())
