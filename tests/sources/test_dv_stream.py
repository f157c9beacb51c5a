"""A DV network stream is decoded and checked in Python: a malformed stream is a reported
event naming the byte and packet, never a crash of the process (issue #13, cases 2 and 8)."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import numpy as np
import pytest
from dv_stream_bytes import BytesServer, event_packets, stream_header, synthetic_events

from live_snn.errors import CorruptStreamError, SourceError, StreamDroppedError
from live_snn.sources.network import NetworkSource

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]


def read_all(address: str, **options):
    source = NetworkSource(address, **options)
    got = []
    try:
        with pytest.raises(StreamDroppedError) as info:
            for batch in source:
                got.append(batch.events)
    finally:
        source.close()
    events = np.concatenate(got) if got else np.empty(0)
    # a protocol fault is told apart from a stream that merely ended (record's exit code)
    assert isinstance(info.value, CorruptStreamError) == ("corrupt DV stream" in str(info.value))
    return events, str(info.value)


def test_a_clean_stream_is_decoded_exactly():
    events = synthetic_events()
    with BytesServer(stream_header() + b"".join(event_packets(events))) as server:
        got, message = read_all(server.address)
    assert np.array_equal(got, events.events)
    assert "the server closed the stream" in message and f"{len(events)} events" in message


def flip_type_identifier(packets):
    second = bytearray(packets[1])
    second[8 + 8: 8 + 12] = b"EVTX"  # packet header, size prefix, root offset, identifier
    return [packets[0], bytes(second), *packets[2:]]


# (damage, message, where: 0 = the packet header is at fault, 8 = its payload)
@pytest.mark.parametrize(("damage", "message", "where"), [
    (lambda p: [p[0], b"\x13\x37" * 3000], r"packet header names stream \d+", 0),
    (lambda p: [p[0], b"\x00\x00\x00\x00\xff\xff\xff\x7f" + p[1][8:]],
     r"packet header declares 2147483647 bytes", 0),
    (flip_type_identifier, r"type identifier b'EVTX', expected b'EVTS'", 8),
    (lambda p: [p[0], p[1][:8] + p[1][8:12] + b"\xff\xff\xff\x0f" + p[1][16:]],
     r"damaged event packet", 8),
])
def test_a_damaged_stream_is_reported_with_its_byte_and_packet(damage, message, where):
    events = synthetic_events()
    header = stream_header()
    packets = event_packets(events)
    with BytesServer(header + b"".join(damage(packets))) as server:
        got, text = read_all(server.address)
    assert "corrupt DV stream at byte " in text and re.search(message, text), text
    first_packet_events = 10_000
    assert len(got) == first_packet_events  # everything before the damage was delivered
    assert f"byte {len(header) + len(packets[0]) + where}, packet 1" in text


def test_a_silent_stream_is_reported_as_stalled():
    events = synthetic_events(5_000)
    payload = stream_header() + b"".join(event_packets(events))
    with BytesServer(payload, hold_s=5.0) as server:
        started = time.monotonic()
        got, text = read_all(server.address, stall_timeout_s=0.5)
    assert len(got) == len(events)
    assert "no data for 0.5 s (stream stalled)" in text and time.monotonic() - started < 4


def test_a_peer_that_is_not_dv_is_named_as_such():
    with BytesServer(b"HTTP/1.1 400 Bad Request\r\n\r\n") as server, \
            pytest.raises(SourceError, match=r"is not a DV event stream: it sent b'HTTP/1\.1"):
        NetworkSource(server.address)


def test_a_peer_that_closes_at_once_is_named_as_such_not_as_silent():
    with BytesServer(b"") as server:
        started = time.monotonic()
        with pytest.raises(SourceError, match="closed the connection right away, without "
                                              "sending anything") as info:
            NetworkSource(server.address, connect_timeout_s=3.0)
    assert "within" not in str(info.value) and time.monotonic() - started < 2


def test_a_header_cut_short_by_the_peer_closing_is_named_as_such():
    with BytesServer(stream_header()[:30]) as server, \
            pytest.raises(SourceError, match=r"sent a DV header of \d+ bytes but then closed "
                                             r"the connection after 30"):
        NetworkSource(server.address)


def test_a_peer_that_stays_silent_is_told_from_one_that_closed():
    with BytesServer(b"", hold_s=2.0) as server, \
            pytest.raises(SourceError, match=r"is not a DV event stream: it sent nothing "
                                             r"within 0\.3 s"):
        NetworkSource(server.address, connect_timeout_s=0.3)


def test_run_on_a_garbage_stream_ends_in_one_line_and_gives_up_in_bounded_time(causal_ckpt,
                                                                                tmp_path):
    """The process survives (dv-processing's reader used to abort it, rc 134), the corrupt
    stream is reported and counted, and a server that keeps sending garbage is given up on
    after the session's reconnections."""
    payload = stream_header() + event_packets(synthetic_events(12_000))[0] + b"\xde\xad" * 500
    summary = tmp_path / "summary.json"
    with BytesServer(payload) as server:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "live_snn", "run", server.address, "--model", str(causal_ckpt),
             "--device", "cpu", "--quiet", "--max-reconnects", "3", "--summary-json",
             str(summary)],
            capture_output=True, text=True, timeout=120, cwd=REPO)
        clients = server.clients
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "corrupt DV stream at byte" in done.stderr
    assert "gave up on" in done.stderr and "after 3 reconnections this session" in done.stderr
    assert clients == 4 and time.monotonic() - started < 60
    assert summary.is_file()



def test_record_from_a_damaged_stream_finishes_a_verified_file(tmp_path):
    """``record`` of a stream that turns to garbage used to die inside dv-processing (rc 134)
    leaving only OUT.partial.aedat4; now the events before the damage are a finished,
    verified recording, the damage is named, and the exit code says the recording failed (as
    for a damaged file: what came after the fault is lost)."""
    events = synthetic_events()
    packets = event_packets(events)
    payload = stream_header() + packets[0] + b"\xde\xad" * 4000  # dv-processing: rc 134
    out = tmp_path / "damaged.aedat4"
    with BytesServer(payload) as server:
        done = subprocess.run([sys.executable, "-m", "live_snn", "record", server.address,
                               str(out)], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "corrupt DV stream at byte" in done.stdout and "packet 1" in done.stdout
    assert "verified: read back 10000 events" in done.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["damaged.aedat4"]  # no partial file left
    from live_snn.sources import open_source

    with open_source(str(out)) as source:
        got = np.concatenate([b.events for b in source])
    assert np.array_equal(got, events.events[:10_000])
