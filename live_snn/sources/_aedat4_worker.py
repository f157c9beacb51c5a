"""Child process that decodes an AEDAT4 file with dv-processing for :class:`Aedat4Source`.

dv-processing 2.0.4 spins forever, holding the GIL, on some damaged compressed packets, and
aborts the process on some damaged headers; neither can be stopped from a thread of the
same process. So decoding runs here and the parent kills this process when it stops
answering. Protocol (stdin: text lines, stdout: framed binary messages, see
``live_snn.sources.aedat4``):

* on start: ``M`` + JSON metadata, or ``X`` + JSON error;
* ``R t0 t1`` -> ``E`` + the events with ``t0 <= t < t1`` as raw EVENT_DTYPE records.
"""

from __future__ import annotations

import json
import os
import struct
import sys

import numpy as np

from live_snn.events import EVENT_DTYPE

KIND_META, KIND_EVENTS, KIND_ERROR = b"M", b"E", b"X"


def _send(out, kind: bytes, payload: bytes) -> None:
    out.write(kind + struct.pack("<q", len(payload)))
    out.write(payload)
    out.flush()


def _to_event_dtype(store) -> bytes:
    if store is None or store.isEmpty():
        return b""
    dv_events = store.numpy()
    events = np.empty(len(dv_events), dtype=EVENT_DTYPE)
    events["t"] = dv_events["timestamp"]
    events["x"] = dv_events["x"]
    events["y"] = dv_events["y"]
    events["p"] = dv_events["polarity"]
    return events.tobytes()


def _event_time_range(recording, file_start: int, file_end: int) -> tuple[int, int] | None:
    """First and last event timestamps (the file's range also covers frames and IMU)."""
    first_batch = recording.getNextEventBatch()
    while first_batch is not None and first_batch.isEmpty():
        first_batch = recording.getNextEventBatch()
    if first_batch is None:
        return None
    first = int(first_batch.getLowestTime())
    span = 1_000
    while True:  # widen a window backwards from the end: a handful of steps
        tail = recording.getEventsTimeRange(max(first, file_end - span), file_end + 1)
        if tail is not None and not tail.isEmpty():
            return first, int(tail.getHighestTime())
        if file_end - span <= first:
            return first, first
        span *= 8


def _die_with_parent(parent_pid: int) -> None:
    """A child spinning inside dv-processing never reads stdin, so it would not notice its
    parent being killed; on Linux ask the kernel to kill it then."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent is already gone
        sys.exit(0)


def main(path: str, parent_pid: int) -> int:
    _die_with_parent(parent_pid)
    out = sys.stdout.buffer
    try:
        import dv_processing as dv

        recording = dv.io.MonoCameraRecording(path)
        if not recording.isEventStreamAvailable():
            raise ValueError("the file holds no event stream")
        file_start, file_end = recording.getTimeRange()
        time_range = _event_time_range(recording, int(file_start), int(file_end))
        meta = {
            "camera": recording.getCameraName(),
            "resolution": list(recording.getEventResolution()),
            "start_us": time_range[0] if time_range else None,
            "end_us": time_range[1] if time_range else None,
            "streams": {
                "events": True,
                "frames": recording.isFrameStreamAvailable(),
                "imu": recording.isImuStreamAvailable(),
                "triggers": recording.isTriggerStreamAvailable(),
            },
            "stream_names": list(recording.getStreamNames()),
        }
    except (RuntimeError, ValueError, IndexError) as exc:
        _send(out, KIND_ERROR, json.dumps({"message": str(exc)}).encode())
        return 1
    _send(out, KIND_META, json.dumps(meta).encode())
    for line in sys.stdin:
        command, *args = line.split()
        if command != "R":
            _send(out, KIND_ERROR, json.dumps({"message": f"unknown command {line!r}"}).encode())
            return 1
        t0, t1 = int(args[0]), int(args[1])
        try:
            store = recording.getEventsTimeRange(t0, t1)
        except (RuntimeError, IndexError, ValueError) as exc:
            message = str(exc).strip().rstrip(".")
            if "out of order" in message:  # dv's time-range read needs ordered packets
                message = f"timestamps go backwards from one packet to the next ({message})"
            _send(out, KIND_ERROR, json.dumps({"message": message, "t_us": t0}).encode())
            return 1
        _send(out, KIND_EVENTS, _to_event_dtype(store))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
