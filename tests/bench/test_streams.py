"""``live-snn bench streams``: the live camera replay, the real-time verdict, and a tiny run of
the whole benchmark (two batched streams, one separate engine, two seconds)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from live_snn.bench import streams
from live_snn.bench.live_cameras import CameraReplay, camera_events, session_loop
from live_snn.events import EVENT_DTYPE, EventBatch, Resolution


def events_at(times_us) -> EventBatch:
    events = np.zeros(len(times_us), EVENT_DTYPE)
    events["t"] = times_us
    return EventBatch(events, Resolution(128, 128))


def test_camera_replay_hands_out_each_packet_when_its_time_has_come():
    # 120 ms of data with a 60 ms silence: 12 packets of 10 ms, the silent ones empty
    replay = CameraReplay(events_at([0, 5_000, 15_000, 90_000, 119_000]),
                          description="cam", start_at=time.monotonic() + 0.05)
    seen = []
    for batch in replay:
        seen.append((time.monotonic(), len(batch)))
    assert [n for _, n in seen] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]
    for k, (at, _) in enumerate(seen):
        assert at >= replay.start_at + (k + 1) * 0.010 - 1e-3, f"packet {k} came early"
    assert seen[-1][0] - replay.start_at < 0.5


def test_camera_replay_stops_when_closed():
    replay = CameraReplay(events_at([0, 10_000_000]), description="cam",
                          start_at=time.monotonic())
    it = iter(replay)
    next(it)
    replay.close()
    assert list(it) == []


def test_camera_events_loop_the_sessions_from_each_cameras_offset():
    loop = session_loop()
    span_s = (loop.t_last - loop.t_first) / 1e6
    assert span_s > 20  # three bundled 10 s sessions
    long = camera_events(loop, span_s * 1.5, offset_s=7.3)
    t = long.t
    assert np.all(np.diff(t) >= 0)
    assert (t[-1] - t[0]) / 1e6 == pytest.approx(span_s * 1.5, abs=0.5)
    assert len(long) > 1.4 * len(loop)
    other = camera_events(loop, 2.0, offset_s=14.6)
    assert not np.array_equal(camera_events(loop, 2.0, offset_s=7.3).events["x"][:100],
                              other.events["x"][:100])


def result(**kw) -> streams.StreamResult:
    base = dict(state="finished", bins=100, bins_skipped=0, events_lost=0, b2p_p99_ms=5.0,
                step_p50_ms=1.0)
    return streams.StreamResult(**(base | kw))


@pytest.mark.parametrize("bad", [dict(bins_skipped=1), dict(events_lost=3),
                                 dict(state="failed"), dict(bins=90)])
def test_a_trial_is_real_time_only_if_every_stream_kept_up(bad):
    trial = streams.Trial("batched", 20.0, 2, 2.0, results=[result(), result()])
    assert trial.realtime
    trial.results[1] = result(**bad)
    assert not trial.realtime
    assert streams.most_realtime([trial], "batched", 20.0) == 0


def test_bench_streams_runs_batched_and_separate_engines(tmp_path, capsys):
    out = tmp_path / "streams.json"
    parser = __import__("argparse").ArgumentParser()
    streams.add_arguments(parser)
    args = parser.parse_args(["--counts", "2", "--separate-counts", "1", "--dt-ms", "20",
                              "--seconds", "2", "--try-all", "--json", str(out)])
    assert streams.run(args) == 0
    trials = json.loads(out.read_text())["trials"]
    assert [(t["mode"], t["streams"]) for t in trials] == [("batched", 2), ("separate", 1)]
    for trial in trials:
        assert len(trial["results"]) == trial["streams"]
        for r in trial["results"]:
            assert r["state"] == "finished", r
            # every bin of the 2 s was either predicted or counted as skipped
            assert r["bins"] + r["bins_skipped"] >= 0.98 * trial["expected_bins"], r
            assert r["bins"] <= trial["expected_bins"] + 1
        assert trial["step_ms_per_stream"] > 0
    text = capsys.readouterr().out
    assert "| batched | 20 | 2 |" in text and "| separate | 20 | 1 |" in text


def test_the_report_says_what_was_not_tried_and_quotes_an_empty_option():
    import argparse

    parser = argparse.ArgumentParser()
    streams.add_arguments(parser)
    args = parser.parse_args(["--counts", "2", "--separate-counts", "", "--dt-ms", "20",
                              "--conv-dtype", "bfloat16"])
    trial = streams.Trial("batched", 20.0, 2, 2.0, results=[result(), result()])
    text = streams.report(args, [trial], preset="lite", device="cpu", load=((0.1,), (0.2,)))
    assert "--separate-counts '' --dt-ms 20" in text and "--conv-dtype bfloat16" in text
    assert "dt 20 ms: batched 2, separate engines not tried" in text
    separate_only = parser.parse_args(["--counts", "", "--separate-counts", "2"])
    trial = streams.Trial("separate", 20.0, 2, 2.0, results=[result(), result()])
    text = streams.report(separate_only, [trial], preset="lite", device="cpu",
                          load=((0.1,), (0.2,)))
    assert "--counts '' --separate-counts 2" in text
    assert "dt 20 ms: batched not tried, separate engines 2" in text
    assert "**not tried in this run**" in text
