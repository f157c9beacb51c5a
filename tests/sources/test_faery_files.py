"""Prophesee RAW (EVT 2.0, 3.0), DAT, Event Stream and CSV through faery, and the sources'
one verdict per file on damaged copies (issue #16)."""

from __future__ import annotations

import numpy as np
import pytest
from event_file_writers import write_with_faery

from live_snn.cli import main
from live_snn.errors import CorruptFileError
from live_snn.events import EventBatch, Resolution, events_checksum
from live_snn.sources.faery_files import FAERY_BLOCK_BYTES
from live_snn.sources.formats import identify_format
from live_snn.sources.scanned import ScannedFileSource
from live_snn.sources.spec import open_recording

COPIES = {"evt3.raw": ("evt3", "Prophesee RAW (EVT 3.0)"), "evt2.raw": ("evt2", "Prophesee RAW "
          "(EVT 2.0)"), "dat": ("dat", "Prophesee DAT"), "es": ("es", "Event Stream 2.0.0 (dvs)"),
          "csv": ("csv", "CSV"), "aedat4": ("aedat4", None)}


@pytest.fixture(scope="module")
def real_events(gesture_sample) -> EventBatch:
    with open_recording(str(gesture_sample)) as source:
        return EventBatch.concatenate(list(source))


@pytest.fixture(scope="module")
def copies(real_events, tmp_path_factory) -> dict[str, object]:
    """The real recording written by faery in every format it writes."""
    folder = tmp_path_factory.mktemp("copies")
    return {name: write_with_faery(folder / f"copy.{name}", real_events,
                                   raw_version=name.split(".")[0] if ".raw" in name else "evt3")
            for name in COPIES}


def read_all(spec: str) -> np.ndarray:
    with open_recording(spec) as source:
        return np.concatenate([batch.events for batch in source])


@pytest.mark.parametrize("name", list(COPIES))
def test_every_format_faery_writes_reads_back_identical_events(copies, real_events, name):
    reader, format_name = COPIES[name]
    path = copies[name]
    assert identify_format(path).reader == reader
    events = read_all(str(path))
    assert len(events) == len(real_events) == 63471
    assert events_checksum(events) == events_checksum(real_events.events)
    with open_recording(str(path)) as source:
        assert source.resolution == Resolution(128, 128)
        assert (source.start_us, source.end_us) == (real_events.t_first, real_events.t_last)
        if format_name is not None:
            assert isinstance(source, ScannedFileSource) and source.format_name == format_name


def test_a_raw_file_seeks_like_a_recording(copies, real_events):
    with open_recording(str(copies["evt3.raw"])) as source:
        source.seek(1_700_000)
        first = next(iter(source))
        assert first.t[0] == real_events.t[np.searchsorted(real_events.t, 1_700_000)]
        rest = np.concatenate([first.events] + [b.events for b in source])
    assert len(rest) == int((real_events.t >= 1_700_000).sum())


def test_a_headerless_raw_capture_is_named_and_read_with_the_spec_it_names(copies, real_events,
                                                                           tmp_path):
    data = copies["evt2.raw"].read_bytes()
    words = tmp_path / "capture.bin"
    words.write_bytes(data[data.index(b"128x128\n") + len(b"128x128\n"):])
    with pytest.raises(CorruptFileError, match=r"Prophesee EVT 2\.0 event words without a RAW "
                       r"header \(the sensor size is not in the file: open it as "
                       rf"evt2:WIDTHxHEIGHT:{words}") as refused:
        open_recording(str(words))
    assert "truncated" not in str(refused.value)
    events = read_all(f"evt2:128x128:{words}")
    assert events_checksum(events) == events_checksum(real_events.events)


def test_a_raw_header_without_the_sensor_size_asks_for_it(copies, tmp_path):
    data = copies["evt3.raw"].read_bytes()
    path = tmp_path / "nosize.raw"
    path.write_bytes(b"% evt 3.0\n% end\n" + data[data.index(b"128x128\n") + 8:])
    with pytest.raises(CorruptFileError, match=rf"EVT 3\.0; its header does not give the sensor "
                       rf"size: open it as evt3:WIDTHxHEIGHT:{path}"):
        open_recording(str(path))
    assert len(read_all(f"evt3:128x128:{path}")) == 63471


def damaged(copies, tmp_path, name: str, how: str):
    data = bytearray(copies[name].read_bytes())
    path = tmp_path / f"{how}.{name}"
    if how == "truncated":
        data = data[: len(data) - 3]
    elif how == "flipped":  # the x of a word far inside the data, out of the 128x128 sensor
        at = len(data) // 2 & ~1
        while data[at + 1] >> 4 != 0x2:  # an EVT 3.0 EVT_ADDR_X word
            at += 2
        data[at + 1] |= 0x04
    elif how == "bad header":
        data = b"% evt 3.0\n% format EVT3;width=0;height=0\n% geometry 0x0\n" + \
            data[data.index(b"128x128\n") + 8:]
    elif how == "empty":
        data = b""
    path.write_bytes(bytes(data))
    return path


def test_damaged_raw_keeps_the_blocks_before_the_damage_and_names_it(copies, tmp_path):
    path = damaged(copies, tmp_path, "evt3.raw", "flipped")
    source = open_recording(str(path))
    assert source.damage is not None and "x overflow" in source.damage
    block = int(source.damage.split("read block ")[1].split(" ")[0])
    got = []
    with pytest.raises(CorruptFileError, match=rf"damaged at read block {block} \(bytes "
                       rf"\d+-\d+\), after event {source.events}: x overflow"):
        for batch in source:
            got.append(batch)
    assert sum(len(b) for b in got) == source.events > 0
    start = int(source.damage.split("(bytes ")[1].split("-")[0])
    assert start <= len(path.read_bytes()) // 2 < start + FAERY_BLOCK_BYTES


@pytest.mark.parametrize(("how", "verdict", "codes"), [
    ("truncated", r"damaged at byte \d+, after event \d+: truncated at byte \d+: the last "
     r"2-byte word", {"info": 2, "run": 1, "record": 1}),
    ("flipped", r"damaged at read block \d+ \(bytes \d+-\d+\), after event \d+: x overflow",
     {"info": 2, "run": 1, "record": 1}),
    ("bad header", r"EVT 3\.0; its header declares a 0x0 sensor, which no camera has \(damaged "
     r"header\?\): open it as evt3:WIDTHxHEIGHT:",
     {"info": 2, "run": 2, "record": 2}),
    ("empty", r"empty file", {"info": 2, "run": 2, "record": 2}),
])
def test_info_run_and_record_give_one_verdict_on_a_damaged_raw(copies, tmp_path, causal_ckpt,
                                                                capsys, how, verdict, codes):
    path = damaged(copies, tmp_path, "evt3.raw", how)
    got = {
        "info": main(["info", str(path)]),
        "run": main(["run", str(path), "--model", str(causal_ckpt), "--device", "cpu",
                     "--speed", "max", "--quiet", "--allow-remap"]),
        "record": main(["record", str(path), str(tmp_path / f"{how}.copy.aedat4")]),
    }
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert got == codes, text
    import re
    said = re.findall(rf"{re.escape(str(path))}: (.*?)(?:; the \d+ events|; live_snn|$)", text,
                      re.MULTILINE)
    assert len(said) >= 3 and len(set(said)) == 1 and re.search(verdict, said[0]), text
