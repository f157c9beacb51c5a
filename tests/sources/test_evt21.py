"""Prophesee EVT 2.1, read by live_snn (faery 0.7.1 cannot): vectorised words, both word
orders, exact read-back of a real recording, damage named by byte."""

from __future__ import annotations

import numpy as np
import pytest
from event_file_writers import evt21_words, write_evt21

from live_snn.errors import CorruptFileError
from live_snn.events import EventBatch, events_checksum
from live_snn.sources.evt21 import decode_evt21_words
from live_snn.sources.formats import identify_format
from live_snn.sources.spec import open_recording


def read_all(spec) -> np.ndarray:
    with open_recording(str(spec)) as source:
        return np.concatenate([batch.events for batch in source])


def test_one_word_carries_up_to_32_pixels_of_a_row():
    t = np.full(5, 1_000_037)
    x = np.array([64, 65, 70, 90, 95])
    events = EventBatch.from_arrays(t, x, np.full(5, 7), np.ones(5), (320, 320))
    words = evt21_words(events)
    assert len(words) == 2  # one time high, one event word with 5 bits set
    decoded, word_index, time_high = decode_evt21_words(words, 0)
    assert list(decoded["x"]) == list(x) and set(decoded["t"]) == {1_000_037}
    assert list(decoded["p"]) == [1] * 5 and list(word_index) == [1] * 5
    assert time_high == 1_000_037 // 64 * 64


def test_the_time_high_counter_wraps_after_2_pow_34_us():
    t = np.array([2**34 - 100, 2**34 + 50])
    events = EventBatch.from_arrays(t, [1, 2], [3, 4], [0, 1], (64, 64))
    decoded, _, _ = decode_evt21_words(evt21_words(events), 0)
    assert list(decoded["t"]) == list(t)


@pytest.mark.parametrize("legacy", [False, True])
def test_a_real_recording_written_as_evt21_reads_back_exactly(gesture_sample, tmp_path, legacy):
    with open_recording(str(gesture_sample)) as source:
        events = EventBatch.concatenate(list(source))
    # one word per event: a vectorised word cannot hold the recording's repeated events
    path = write_evt21(tmp_path / "gesture.raw", events, legacy=legacy, group=False)
    assert identify_format(path).reader == "evt21"
    back = read_all(path)
    assert len(back) == len(events) and events_checksum(back) == events_checksum(events.events)


def test_a_headerless_evt21_capture_reads_with_the_spec(tmp_path):
    events = EventBatch.from_arrays(np.arange(100) * 10, np.arange(100) % 320, np.arange(100),
                                    np.arange(100) % 2, (320, 320))
    path = write_evt21(tmp_path / "capture.bin", events, header=False)
    back = read_all(f"evt21:320x320:{path}")
    assert events_checksum(back) == events_checksum(events.events)


def test_a_pixel_outside_the_sensor_is_named_by_its_word(tmp_path):
    events = EventBatch.from_arrays(np.arange(50) * 100, np.full(50, 3), np.full(50, 4),
                                    np.zeros(50), (64, 64))
    path = write_evt21(tmp_path / "bad.raw", events)
    data = bytearray(path.read_bytes())
    header = data.index(b"% end\n") + len(b"% end\n")
    words = np.frombuffer(bytes(data[header:]), "<u8").copy()
    cd = np.flatnonzero((words >> np.uint64(60)) == 0)
    words[cd[20]] |= np.uint64(96) << np.uint64(32)  # y = 96 | 4 on a 64x64 sensor
    path.write_bytes(bytes(data[:header]) + words.tobytes())
    source = open_recording(str(path))
    byte = header + 8 * int(cd[20])
    assert source.damage == (f"damaged at byte {byte}, event 20: x=3, y=100 is outside the "
                             "64x64 sensor")
    with pytest.raises(CorruptFileError, match="the 20 events before it are kept"):
        list(source)
