"""A person who performs only when asked: the timeline of a steered session.

A :class:`SteeredScript` draws no gestures of its own. Between cues the person rests (arms
hanging, idle drift, body sway, exactly as between scripted gestures); ``cue(label, start,
end)`` makes them perform one gesture of that class over ``[start, end)``, its tempo, size,
phase and style drawn from the session's script generator as a scripted gesture's are. So
the same seed and the same cues give the same events, however the stream is chunked.
"""

from __future__ import annotations

import numpy as np

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn.sim.gesture_styles import GestureParams
from live_snn.sim.script import GestureScript

# An open end for the idle-drift ramp: nothing is drawn ahead, so no gesture boundary lies
# beyond the last cue (the ramp only looks at the distance to real boundaries).
_OPEN_END_US = np.iinfo(np.int64).max // 4


class SteeredScript(GestureScript):
    """Rests until told to perform; cues must come in time order and must not overlap."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._next_start_us = _OPEN_END_US

    def extend_to(self, t_us: int) -> None:
        """Nothing to draw ahead: the person performs only what is cued."""

    def fit_duration(self, duration_us: int) -> None:
        raise ValueError("a steered session has no script to fit to a duration")

    @property
    def cued_until_us(self) -> int:
        """End of the last cued gesture (the session's start when none was cued)."""
        return self.gestures[-1].end_us if self.gestures else self._config.t0_us

    def cue(self, label: int, start_us: int, end_us: int) -> GestureParams:
        if not 0 <= label < len(DVS_GESTURE_CLASSES):
            raise ValueError(
                f"gesture class index {label} out of range 0..{len(DVS_GESTURE_CLASSES) - 1}")
        if end_us <= start_us:
            raise ValueError(f"a cued gesture must end after it starts: {start_us}..{end_us} µs")
        if start_us < self.cued_until_us:
            raise ValueError(f"cue at {start_us} µs overlaps the gesture cued until "
                             f"{self.cued_until_us} µs")
        return self._add_gesture(label, start_us, end_us)
