"""The simulator as a live source: ``sim:`` specs, live labels, real-time pacing, close."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from live_snn.errors import SourceError
from live_snn.events import EventBatch, Resolution
from live_snn.sim import GestureSimulator, SimConfig
from live_snn.sources import open_source
from live_snn.sources.base import EventSource
from live_snn.sources.sim import SimulatorSource


def test_spec_opens_a_live_simulator_with_those_settings():
    source = open_source("sim:seed=3,speed=max,resolution=346x260,gesture=4+left-arm-clockwise,chunk_ms=5")
    assert isinstance(source, SimulatorSource) and isinstance(source, EventSource)
    assert source.is_live and source.resolution == Resolution(346, 260)
    assert source.config.seed == 3 and source.speed is None
    assert "seed 3" in source.description and "346x260" in source.description
    batches = []
    for batch in source:
        batches.append(batch)
        if len(batches) == 200:  # 1 s of simulated time
            break
    source.close()
    assert all(b.resolution == Resolution(346, 260) for b in batches)
    assert [b.t_first // 5_000 for b in batches if len(b)] == [i for i, b in enumerate(batches) if len(b)]
    assert {s.label for s in source.labels.segments} <= {3, 5}


def test_plain_sim_spec_uses_the_defaults():
    source = SimulatorSource.from_spec("sim:")
    assert source.config == SimConfig() and source.speed == 1.0
    assert SimulatorSource.from_spec("sim").config == SimConfig()


def test_live_stream_is_the_seeded_session():
    source = SimulatorSource.from_spec("sim:seed=8,speed=max")
    live = []
    for batch in source:
        live.append(batch)
        if source.time_us >= 500_000:
            break
    reference = GestureSimulator(SimConfig(seed=8)).stream().advance_to(500_000)
    assert np.array_equal(EventBatch.concatenate(live).events, reference.events)


def test_labels_grow_as_gestures_begin():
    source = SimulatorSource(SimConfig(seed=2, gesture_s=(1.5, 1.5), rest_s=(0.3, 0.3)), speed=None)
    seen = []
    for _ in source:
        seen.append(len(source.labels.segments))
        if source.time_us >= 4_000_000:
            break
    # gestures begin at 0.3 s, 2.1 s and 3.9 s
    assert seen[0] == 0 and seen[-1] == 3
    assert seen.index(1) == 30 and seen.index(2) == 210
    assert all(s.start_us <= source.time_us for s in source.labels.segments)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("sim:colour=red", "unknown key 'colour'"),
        ("sim:seed", "must be key=value"),
        ("sim:seed=three", "seed='three' is not a valid int"),
        ("sim:speed=-2", "speed must be > 0 or 'max'"),
        ("sim:resolution=100", "WIDTHxHEIGHT"),
        ("sim:gesture=salute", "unknown gesture class 'salute'"),
        ("sim:threshold=0", "threshold must be > 0"),
        ("sim:lighting=candle", "lighting must be one of fluorescent, led, natural"),
        ("sim:tempo=9", "speed_scale must be in"),
        ("sim:size=fat", "size='fat' is not a valid float"),
        ("sim:chunk_ms=0", "chunk_ms must be > 0"),
        ("simulator", "not a simulator spec"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(SourceError, match=message):
        SimulatorSource.from_spec(spec)


def test_spec_pins_the_room_and_makes_a_new_person():
    source = SimulatorSource.from_spec("sim:seed=2,lighting=natural,light=0.3,tempo=1.4,size=0.8,noise_hz=0.1")
    config = source.config
    assert (config.lighting, config.light_level, config.speed_scale, config.size_scale, config.noise_hz) == (
        "natural", 0.3, 1.4, 0.8, 0.1)


def test_real_time_pacing_and_as_fast_as_possible():
    paced = SimulatorSource(SimConfig(seed=1), speed=1.0, chunk_us=10_000)
    start = time.monotonic()
    for i, _ in enumerate(paced):
        if i == 24:  # 250 ms of simulated time
            break
    assert time.monotonic() - start >= 0.24  # never ahead of the wall clock
    fast = SimulatorSource(SimConfig(seed=1), speed=4.0, chunk_us=10_000)
    start = time.monotonic()
    for i, _ in enumerate(fast):
        if i == 24:
            break
    assert time.monotonic() - start >= 0.24 / 4


def test_close_from_another_thread_ends_a_paced_iteration_at_once():
    source = SimulatorSource(SimConfig(seed=1), speed=0.01, chunk_us=10_000)  # 1 s per batch
    got = []
    consumer = threading.Thread(target=lambda: got.extend(source))
    consumer.start()
    time.sleep(0.2)
    source.close()
    consumer.join(5)
    assert not consumer.is_alive()
    assert len(got) <= 1
