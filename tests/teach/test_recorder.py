"""The recorder: events written as they come, the folder at the end, the clock of a silent
source, the simulated person cued ahead of each take."""

from __future__ import annotations

import json

import numpy as np
import pytest

from live_snn.events import EVENT_DTYPE, EventBatch, Resolution
from live_snn.labels import read_labels_csv
from live_snn.sinks.teach_folder import (
    LABELS_FILE,
    META_FILE,
    PARTIAL_RECORDING_FILE,
    RECORDING_FILE,
    TeachFolderError,
    read_teach_folder,
)
from live_snn.sources.aedat4 import Aedat4Source
from live_snn.teach.plan import TeachPlan
from live_snn.teach.recorder import TeachRecorder

RES = Resolution(32, 32)


def batch(t0: int, t1: int, n: int = 20) -> EventBatch:
    events = np.zeros(n, dtype=EVENT_DTYPE)
    events["t"] = np.linspace(t0, t1 - 1, n).astype(np.int64)
    events["x"], events["y"], events["p"] = 3, 4, 1
    return EventBatch(events, RES)


def plan(**changes) -> TeachPlan:
    return TeachPlan(**{"class_names": ("wave", "clap"), "takes_per_class": 1, "take_s": 1.0,
                        "rest_s": 0.5, "countdown_s": 1.0, "order": "fixed", **changes})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_events_and_kept_takes_land_in_a_readable_folder(tmp_path):
    rec = TeachRecorder(plan(), tmp_path / "s", resolution=RES, source_description="test")
    assert (tmp_path / "s" / PARTIAL_RECORDING_FILE).is_file()   # written as it comes
    for t in range(0, 6_000_000, 50_000):
        rec.feed(batch(t, t + 50_000))
    assert rec.ended
    result = rec.finish()
    assert result.kept == 2 and result.events == 120 * 20
    folder = read_teach_folder(tmp_path / "s", span_us=(0, 5_999_999))
    assert folder.class_names == ("wave", "clap")
    # The clock starts at the newest event of the first batch (49,999 µs): countdown 1 s,
    # take 1 s, rest 0.5 s, countdown 1 s, take 1 s.
    assert [(s.label, s.start_us, s.end_us) for s in folder.labels.segments] == [
        (0, 1_049_999, 2_049_999), (1, 3_549_999, 4_549_999)]
    with Aedat4Source(tmp_path / "s" / RECORDING_FILE) as source:
        assert sum(len(b) for b in source) == 2400
    meta = json.loads((tmp_path / "s" / META_FILE).read_text())
    assert meta["plan"]["take_s"] == 1.0 and meta["source"] == "test"
    assert rec.finish() is result            # twice is harmless


def test_a_silent_live_source_still_moves_the_prompts_on(tmp_path):
    clock = Clock()
    rec = TeachRecorder(plan(), tmp_path / "s", resolution=RES, source_description="cam",
                        clock=clock)
    rec.feed(batch(0, 10_000))
    clock.now = 1.5                          # 1.5 s of silence
    rec.tick()
    assert rec.status().phase == "take"
    rec.feed(EventBatch.empty(RES))          # an empty heartbeat batch does the same
    assert rec.status().now_us >= 1_500_000


def test_finish_while_a_take_is_under_way_keeps_only_whole_takes(tmp_path):
    rec = TeachRecorder(plan(), tmp_path / "s", resolution=RES, source_description="test")
    for t in range(0, 4_000_000, 50_000):    # the second take starts at 3.5 s
        rec.feed(batch(t, t + 50_000))
    result = rec.finish()
    assert [t.status for t in result.takes] == ["kept", "cut short"]
    assert "take 2 (clap) discarded" in result.message
    labels = read_labels_csv(tmp_path / "s" / LABELS_FILE, ("wave", "clap"))
    assert len(labels.segments) == 1


def test_a_folder_holding_a_session_is_never_overwritten(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / META_FILE).write_text("{}")
    with pytest.raises(TeachFolderError, match="already holds a taught session"):
        TeachRecorder(plan(), tmp_path / "s", resolution=RES, source_description="test")
    assert (tmp_path / "s" / META_FILE).read_text() == "{}"


def test_the_simulated_person_performs_each_take_inside_its_span(tmp_path):
    from live_snn.sources.performer import open_teaching_source

    source = open_teaching_source("sim:seed=2,speed=max", {"swipe": "left-hand-wave"})
    rec = TeachRecorder(plan(class_names=("swipe", "arm roll")), tmp_path / "s",
                        resolution=source.resolution, source_description=source.description,
                        performer=source, live=False)
    with source:
        for b in source:
            rec.feed(b)
            if rec.ended:
                break
        performed = source.labels.segments
    takes = rec.finish().takes
    assert [s.label for s in performed] == [2, 7]       # left hand wave, arm roll
    for take, gesture in zip(takes, performed, strict=True):
        assert take.start_us < gesture.start_us < gesture.end_us <= take.end_us
        assert gesture.start_us - take.start_us <= 400_000    # a person's reaction


def test_a_class_the_simulated_person_cannot_perform_is_refused_before_recording(tmp_path):
    from live_snn.errors import SourceError
    from live_snn.sources.performer import open_teaching_source

    with open_teaching_source("sim:seed=2") as source, \
            pytest.raises(SourceError, match="cannot perform 'thumbs up'.*--perform"):
        TeachRecorder(plan(class_names=("arm roll", "thumbs up")), tmp_path / "s",
                      resolution=source.resolution, source_description="sim", performer=source)
    assert not (tmp_path / "s").exists()
