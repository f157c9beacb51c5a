"""jAER AEDAT 2.0 from a DVS128: the address layout, exact read-back, wrapping time and
damage named by byte."""

from __future__ import annotations

import numpy as np
import pytest
from event_file_writers import JAER_HEADER, write_jaer_dvs128

from live_snn.errors import CorruptFileError
from live_snn.events import EventBatch, events_checksum
from live_snn.sources.formats import identify_format
from live_snn.sources.spec import open_recording


def read_all(path) -> np.ndarray:
    with open_recording(str(path)) as source:
        return np.concatenate([batch.events for batch in source])


def test_the_dvs128_address_layout(tmp_path):
    # one hand-made event: ON at top-left pixel (0, 0) is y=127 from the bottom, x field 127
    path = tmp_path / "one.aedat"
    address = (127 << 8) | (127 << 1) | 0  # polarity bit 0: ON
    path.write_bytes(JAER_HEADER + np.array([(address, 42)], dtype=[("a", ">i4"), ("t", ">i4")])
                     .tobytes())
    (event,) = read_all(path)
    assert (event["t"], event["x"], event["y"], event["p"]) == (42, 0, 0, 1)
    path.write_bytes(JAER_HEADER + np.array([((5 << 8) | (10 << 1) | 1, 43)],
                                            dtype=[("a", ">i4"), ("t", ">i4")]).tobytes())
    (event,) = read_all(path)
    assert (event["x"], event["y"], event["p"]) == (117, 122, 0)  # OFF


def test_a_real_recording_written_as_jaer_reads_back_exactly(gesture_sample, tmp_path):
    with open_recording(str(gesture_sample)) as source:
        events = EventBatch.concatenate(list(source))
    path = write_jaer_dvs128(tmp_path / "gesture.aedat", events)
    fmt = identify_format(path)
    assert (fmt.reader, fmt.describe()) == ("aedat2", "AEDAT 2.0 (jAER) (DVS128, 128x128)")
    back = read_all(path)
    assert len(back) == len(events) and events_checksum(back) == events_checksum(events.events)
    with open_recording(str(path)) as source:
        assert (source.format_name, source.sensor) == ("AEDAT 2.0 (jAER)", "DVS128")


def test_the_int32_timestamp_wraps_forward(tmp_path):
    t = np.array([2**31 - 20, 2**31 - 10, 2**31 + 5, 2**31 + 30], dtype=np.int64)
    events = EventBatch.from_arrays(t, [1, 2, 3, 4], [5, 6, 7, 8], [0, 1, 0, 1], (128, 128))
    raw = ((t + 2**31) % 2**32 - 2**31).astype(np.int32)  # what a jAER int32 holds
    path = write_jaer_dvs128(tmp_path / "wrap.aedat", events, raw_t=raw)
    assert list(read_all(path)["t"]) == list(t)


def test_a_cut_event_and_a_foreign_address_are_named_by_byte(gesture_sample, tmp_path):
    with open_recording(str(gesture_sample)) as source:
        events = EventBatch.concatenate(list(source)[:2])
    path = write_jaer_dvs128(tmp_path / "cut.aedat", events)
    path.write_bytes(path.read_bytes()[:-3])
    n = len(events) - 1
    start = len(JAER_HEADER) + 8 * n
    with pytest.raises(CorruptFileError, match=rf"damaged at byte {start}, after event {n}: "
                       rf"truncated at byte {start + 5}: the last 8-byte event"):
        assert len(read_all(path)) == n
    data = bytearray(path.read_bytes())
    data[len(JAER_HEADER) + 8 * 10] = 0x40  # an address bit a DVS128 never sets
    path.write_bytes(bytes(data))
    source = open_recording(str(path))
    assert source.events == 10 and source.damage.startswith(
        f"damaged at byte {len(JAER_HEADER) + 80}, after event 10: address 0x40")


def test_a_davis_aedat2_is_named_not_misread(tmp_path):
    path = tmp_path / "davis.aedat"
    path.write_bytes(b"#!AER-DAT2.0\r\n# AEChip: eu.seebetter.ini.chips.davis.DAVIS240C\r\n"
                     + bytes(64))
    with pytest.raises(CorruptFileError, match=r"AEDAT 2\.0 \(jAER\) \(from a DAVIS240C: "
                       r"live_snn reads the DVS128 address layout only\)"):
        open_recording(str(path))
