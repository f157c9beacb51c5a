"""Child process that decodes an AEDAT4 file with dv-processing for :class:`Aedat4Source`.

dv-processing 2.0.4 spins forever, holding the GIL, on some damaged compressed packets, and
aborts the process on some damaged headers and packets; none of that can be stopped from a
thread of the same process. So decoding runs here and the parent kills this process when it
stops answering.

The events of a file are what dv-processing's own sequential decode (``getNextEventBatch``)
gives, in file order, up to the first damage. On start the child scans the whole file once
and checks, per packet and vectorised, that timestamps are not negative, do not go back and
do not jump forward by more than ``max_gap_us``; it reports progress after every packet, so
that the parent can name the packet a crash or a spin happened in. The scan ends with the
verdict. Protocol (stdin: text lines, stdout: framed binary messages, see
``live_snn.sources.aedat4``):

* ``M`` + JSON metadata (or ``X`` + JSON error), then ``P`` + progress per packet
  (int64 packet index, events so far, last timestamp), then ``V`` + JSON verdict
  (``events``, ``packets``, ``first_us``, ``last_us``, ``damage``: null or
  ``{"packet", "event", "what"}``);
* ``S t`` -> nothing: the next read starts at the first event with timestamp >= t;
* ``N n`` -> ``E`` + up to about n events (raw EVENT_DTYPE records), empty at the end.
"""

from __future__ import annotations

import json
import os
import struct
import sys

import numpy as np

from live_snn.events import EVENT_DTYPE

KIND_META, KIND_EVENTS, KIND_ERROR = b"M", b"E", b"X"
KIND_PROGRESS, KIND_VERDICT = b"P", b"V"
PROGRESS = struct.Struct("<qqq")  # packet index (0-based, done), events so far, last t


def _send(out, kind: bytes, payload: bytes) -> None:
    out.write(kind + struct.pack("<q", len(payload)))
    out.write(payload)
    out.flush()


def _to_event_dtype(dv_events: np.ndarray) -> np.ndarray:
    events = np.empty(len(dv_events), dtype=EVENT_DTYPE)
    events["t"] = dv_events["timestamp"]
    events["x"] = dv_events["x"]
    events["y"] = dv_events["y"]
    events["p"] = dv_events["polarity"]
    return events


def first_bad_timestamp(t: np.ndarray, previous: int | None, max_gap_us: int) -> tuple[int, str] | None:
    """Index in ``t`` of the first timestamp that is negative, earlier than its predecessor
    (``previous`` before ``t[0]``) or later than it by more than ``max_gap_us``, with what is
    wrong; None when all are fine."""
    if len(t) == 0:
        return None
    before = np.empty(len(t), dtype=np.int64)
    before[0] = t[0] if previous is None else previous
    before[1:] = t[:-1]
    step = t - before
    bad = (t < 0) | (step < 0) | (step > max_gap_us)
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    if t[i] < 0:
        return i, f"negative timestamp {int(t[i])} us"
    if step[i] < 0:
        return i, f"timestamps go backwards: {int(t[i])} us after {int(before[i])} us"
    return i, (f"timestamp jumps forward by {step[i] / 1e6:.1f} s ({int(before[i])} -> "
               f"{int(t[i])} us), more than the {max_gap_us / 1e6:g} s a recording may pause")


class SequentialReader:
    """dv's sequential event reads over the first ``limit`` events, seekable by restarting."""

    def __init__(self, recording, limit: int):
        self.recording = recording
        self.limit = limit
        self.position = 0  # global index of the next event
        self.held = np.empty(0, dtype=EVENT_DTYPE)
        self.skip_before: int | None = None

    def seek(self, t_us: int) -> None:
        self.recording.resetSequentialRead()
        self.position = 0
        self.held = np.empty(0, dtype=EVENT_DTYPE)
        self.skip_before = t_us

    def read(self, wanted: int) -> np.ndarray:
        parts = [self.held] if len(self.held) else []
        have = len(self.held)
        self.held = np.empty(0, dtype=EVENT_DTYPE)
        while have < wanted and self.position < self.limit:
            store = self.recording.getNextEventBatch()
            if store is None:
                break
            if store.isEmpty():
                continue
            events = _to_event_dtype(store.numpy())[: self.limit - self.position]
            self.position += len(events)
            if self.skip_before is not None:
                events = events[events["t"] >= self.skip_before]
                if len(events):
                    self.skip_before = None
            parts.append(events)
            have += len(events)
        return np.concatenate(parts) if parts else np.empty(0, dtype=EVENT_DTYPE)


def scan(recording, out, limit: int, max_gap_us: int) -> dict:
    """Decode every event packet once (up to ``limit`` events), checking timestamps; report
    progress after each packet and return the verdict."""
    packets = events = 0
    first = last = None
    damage = None
    while events < limit:
        try:
            store = recording.getNextEventBatch()
        except (RuntimeError, ValueError, IndexError) as exc:
            damage = {"packet": packets, "event": events, "what": _first_line(exc)}
            break
        if store is None:
            break
        if not store.isEmpty():
            t = np.ascontiguousarray(store.numpy()["timestamp"], dtype=np.int64)[: limit - events]
            bad = first_bad_timestamp(t, last, max_gap_us)
            if bad is not None:
                i, what = bad
                damage = {"packet": packets, "event": events + i, "what": what}
                if i:
                    first = int(t[0]) if first is None else first
                    last = int(t[i - 1])
                events += i
                break
            first = int(t[0]) if first is None else first
            last = int(t[-1])
            events += len(t)
        packets += 1
        _send(out, KIND_PROGRESS, PROGRESS.pack(packets, events, -1 if last is None else last))
    return {"events": events, "packets": packets, "first_us": first, "last_us": last,
            "damage": damage}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


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


def main(path: str, parent_pid: int, limit: int, max_gap_us: int) -> int:
    _die_with_parent(parent_pid)
    out = sys.stdout.buffer
    limit = sys.maxsize if limit < 0 else limit
    try:
        import dv_processing as dv

        recording = dv.io.MonoCameraRecording(path)
        if not recording.isEventStreamAvailable():
            raise ValueError("the file holds no event stream")
        meta = {
            "camera": recording.getCameraName(),
            "resolution": list(recording.getEventResolution()),
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
    verdict = scan(recording, out, limit, max_gap_us)
    _send(out, KIND_VERDICT, json.dumps(verdict).encode())
    reader = SequentialReader(recording, verdict["events"])
    reader.seek(-(2**62))
    for line in sys.stdin:
        command, *args = line.split()
        if command == "S":
            reader.seek(int(args[0]))
        elif command == "N":
            _send(out, KIND_EVENTS, reader.read(int(args[0])).tobytes())
        else:
            _send(out, KIND_ERROR, json.dumps({"message": f"unknown command {line!r}"}).encode())
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
