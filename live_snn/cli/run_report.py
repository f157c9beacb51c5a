"""What ``live-snn run`` reports, for one stream or several: how often the live line is
drawn, which status events are printed, and a stream's summary as JSON-ready values."""

from __future__ import annotations

import math
import time
from typing import TextIO

LIVE_LINE_PERIOD_S = 0.25   # a terminal line is redrawn at most this often
PLAIN_LINE_PERIOD_S = 2.0   # without a terminal (logs, pipes) one line every so often

REPORTED_EVENTS = ("stream_dropped", "reconnecting", "reconnected", "failed", "reset",
                   "clock_jump")


def print_event(event, stream: TextIO, name: str | None = None) -> None:
    if event.kind in REPORTED_EVENTS:
        whose = "" if name is None else f"{name}: "
        print(f"\nlive-snn run: {whose}{event.kind.replace('_', ' ')}: {event.message}",
              file=stream, flush=True)


def conv_dtype_note(info) -> str:
    """What a banner adds when the convolutions do not run in float32."""
    return "" if info.conv_dtype == "float32" else f", {info.conv_dtype} convolutions"


def summary_record(stats, info=None) -> dict:
    record = stats.as_dict()
    record["latency_ms"] = {
        stage: {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in s.items()}
        for stage, s in record["latency_ms"].items()
    }
    if info is not None:
        record["source"] = info.source_description
        record["model_sha256"] = info.model_sha256
        record["dt_us"] = info.dt_us
        record["device"] = info.device
        record["conv_dtype"] = info.conv_dtype
    return record


class StatusLine:
    """A status line that follows an engine: redrawn on a terminal, printed now and then in
    a log. Subclasses say what it shows (``draw``)."""

    def __init__(self, engine, stream: TextIO, *, quiet: bool = False):
        self.engine = engine
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.period = LIVE_LINE_PERIOD_S if self.tty else PLAIN_LINE_PERIOD_S

    def run(self, duration_s: float | None = None) -> bool:
        """Start the engine and :meth:`follow` it; True when Ctrl-C cut that short (the
        caller then stops the engine, as after any run)."""
        self.engine.start()
        try:
            self.follow(duration_s)
        except KeyboardInterrupt:
            return True
        return False

    def follow(self, duration_s: float | None = None) -> None:
        """Until the run ends (or ``duration_s`` of wall time has passed: then stop it)."""
        last = 0.0
        end = None if duration_s is None else time.monotonic() + duration_s
        while not self.engine.wait(0.05):
            now = time.monotonic()
            if end is not None and now >= end:
                self.engine.stop()
                break
            if not self.quiet and now - last >= self.period:
                self.draw()
                last = now
        if not self.quiet and self.tty:
            self.stream.write("\n")

    def draw(self) -> None:
        raise NotImplementedError

    def show(self, line: str) -> None:
        """``line`` drawn over the last one on a terminal, printed as a new one in a log."""
        if self.tty:
            self.stream.write("\r" + line)
            self.stream.flush()
        else:
            print(line, file=self.stream, flush=True)
