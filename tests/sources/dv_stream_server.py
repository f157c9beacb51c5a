"""A real dv-processing NetworkWriter serving a recording, run as its own process by the
network tests: ``python dv_stream_server.py RECORDING ADDRESS [--then exit|hold]``.

ADDRESS is a TCP port on 127.0.0.1 or a Unix socket path. It prints ``listening``, waits
for a client, sends every event batch of RECORDING, waits until they left the queue, prints
``served N`` and then either exits (the server goes away) or keeps the connection open
sending nothing. A client is served once it has stayed connected for 0.2 s. Why a process and not a thread: in dv-processing 2.0.4, destroying a
NetworkWriter while a client is connected blocks forever holding the GIL, which would
freeze a test process that also runs the reader.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import dv_processing as dv


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("recording")
    parser.add_argument("address")
    parser.add_argument("--then", choices=["exit", "hold"], default="exit")
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()
    recording = dv.io.MonoCameraRecording(args.recording)
    stream = dv.io.Stream.EventStream(
        0, "events", recording.getCameraName(), recording.getEventResolution()
    )
    if args.address.isdigit():
        writer = dv.io.NetworkWriter("127.0.0.1", int(args.address), stream)
    else:
        writer = dv.io.NetworkWriter(args.address, stream)
    print("listening", flush=True)
    deadline = time.monotonic() + args.max_seconds
    # a client counts once it stays connected for a moment: NetworkSource first probes the
    # server with a short-lived plain socket, which must not receive the recording
    connected_since = None
    while connected_since is None or time.monotonic() - connected_since < 0.2:
        if time.monotonic() > deadline:
            os._exit(3)
        if writer.getClientCount() == 0:
            connected_since = None
        elif connected_since is None:
            connected_since = time.monotonic()
        time.sleep(0.005)
    served = 0
    while (store := recording.getNextEventBatch()) is not None:
        writer.writeEvents(store)
        served += len(store)
    while writer.getQueuedPacketCount() > 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    # an empty queue means handed to the socket thread, not yet sent: give it time
    time.sleep(0.5)
    print(f"served {served}", flush=True)
    if args.then == "hold":
        time.sleep(max(0.0, deadline - time.monotonic()))
    # exit without destroying the writer (see the module docstring): the OS closes the
    # sockets, which is what a server going away looks like to a client
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
