"""Formats are told by content, and one verdict per file is shared by info, run and record
(issue #13, case 4)."""

from __future__ import annotations

import numpy as np
import pytest

from live_snn.cli import main
from live_snn.errors import CorruptFileError
from live_snn.events import EventBatch
from live_snn.sources.formats import identify_format
from live_snn.sources.spec import open_recording


def test_random_bytes_whose_size_is_a_multiple_of_5_are_not_nmnist(tmp_path):
    path = tmp_path / "noise.bin"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5 * 4000, dtype=np.uint8).tobytes())
    with pytest.raises(CorruptFileError, match=r"not an N-MNIST file despite its name: unknown "
                                               r"format \(20000 bytes, starting b"):
        open_recording(str(path))


def test_real_nmnist_samples_are_recognised_by_content(nmnist_dir, tmp_path):
    sample = next((nmnist_dir / "Test" / "3").glob("*.bin"))
    renamed = tmp_path / "digit.dat"
    renamed.write_bytes(sample.read_bytes())
    assert identify_format(renamed).reader == "nmnist"


def test_a_headerless_prophesee_evt2_file_is_named_not_called_truncated_nmnist(tmp_path):
    rng = np.random.default_rng(1)
    words = np.empty(3001, dtype="<u4")
    words[0::3] = (0x8 << 28) | np.arange(1001, dtype=np.uint32)          # EV_TIME_HIGH
    words[1::3] = (0x1 << 28) | rng.integers(0, 1 << 28, 1000, dtype=np.uint32)  # CD_ON
    words[2::3] = (0x0 << 28) | rng.integers(0, 1 << 28, 1000, dtype=np.uint32)  # CD_OFF
    path = tmp_path / "recording.bin"
    path.write_bytes(words.tobytes())
    with pytest.raises(CorruptFileError, match=r"Prophesee EVT 2\.0 event words without a RAW "
                       rf"header \(the sensor size is not in the file: open it as "
                       rf"evt2:WIDTHxHEIGHT:{path}, e\.g\. evt2:320x320:") as info:
        open_recording(str(path))
    assert "truncated" not in str(info.value)
    with open_recording(f"evt2:2048x2048:{path}") as source:  # x, y are 11 random bits
        assert sum(len(batch) for batch in source) == 2000


@pytest.mark.parametrize(("head", "reader"), [
    (b"% camera_integrator_name Prophesee\n% evt 3.0\n% format EVT3;height=720;width=1280\n"
     b"% end\n", "evt3"),
    (b"% evt 2.1\n% geometry 320x320\n% end\n", "evt21"),
    (b"% Data file containing CD events.\n% Version 2\n% Width 640\n% Height 480\n", "dat"),
    (b"#!AER-DAT2.0\r\n# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128\r\n", "aedat2"),
    (b"Event Stream\x02\x00\x00\x01\x80\x00\x80\x00", "es"),
    (b"t,x@346,y@260,on\n1000,3,4,1\n1001,5,6,0\n", "csv"),
])
def test_the_formats_read_through_faery_or_live_snn_are_told_by_content(tmp_path, head, reader):
    path = tmp_path / "any.name"
    path.write_bytes(head + bytes(200 if reader != "csv" else 0))
    assert identify_format(path).reader == reader


@pytest.mark.parametrize(("head", "name"), [
    (b"\x89HDF\r\n\x1a\n" + bytes(40), r"HDF5 \(not supported\)"),
    (b"% evt 4.0\n% end\n", r"Prophesee RAW \(its header names no EVT version live_snn reads"),
    (b"Event Stream\x02\x00\x00\x04\x80\x00\x80\x00", r"color events: live_snn reads DVS"),
    (b"t,x,y,on\n1000,3,4,1\n", r"CSV events \(without the sensor size"),
])
def test_other_event_files_are_named_with_what_is_missing(tmp_path, head, name):
    path = tmp_path / "file.raw"
    path.write_bytes(head + bytes(200 if b"t,x" not in head else 0))
    with pytest.raises(CorruptFileError, match=name):
        open_recording(str(path))


def test_damaged_nmnist_keeps_the_events_before_the_damage(nmnist_dir, tmp_path):
    sample = next((nmnist_dir / "Test" / "5").glob("*.bin")).read_bytes()
    damaged = bytearray(sample)
    damaged[5 * 100] = 200  # x of event 100
    path = tmp_path / "damaged.bin"
    path.write_bytes(bytes(damaged))
    source = open_recording(str(path))
    got = []
    with pytest.raises(CorruptFileError, match=r"damaged at byte 500 \(event 100\): x=200"):
        for batch in source:
            got.append(batch)
    assert sum(len(b) for b in got) == 100


def backwards_file(tmp_path):
    from live_snn.sinks.aedat4_writer import EVENTS_PER_PACKET, Aedat4Writer

    n = 3 * EVENTS_PER_PACKET
    t = 1_000_000 + 100 * np.arange(n, dtype=np.int64)
    t[2 * EVENTS_PER_PACKET + 7] -= 1_500_000
    events = EventBatch.from_arrays(t, np.arange(n) % 128, np.arange(n) % 128, np.arange(n) % 2,
                                    (128, 128))
    path = tmp_path / "backwards.aedat4"
    with Aedat4Writer(path, events.resolution, "test") as writer:
        writer.write(events)
    return path, 2 * EVENTS_PER_PACKET + 7


def test_info_run_and_record_give_one_verdict_on_a_damaged_file(tmp_path, causal_ckpt, capsys):
    path, bad_event = backwards_file(tmp_path)
    verdict = "damaged at packet 2 of the event stream (byte "
    codes = {
        "info": main(["info", str(path)]),
        "run": main(["run", str(path), "--model", str(causal_ckpt), "--device", "cpu",
                     "--speed", "max", "--quiet"]),
        "record": main(["record", str(path), str(tmp_path / "copy.aedat4")]),
    }
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert codes == {"info": 2, "run": 1, "record": 1}, text
    assert text.count(verdict) == 3 and text.count(f"event {bad_event}: timestamps go backwards") == 3
    assert text.count(f"the {bad_event} events before it are kept") == 3
    assert "verified: read back 20007 events" in text  # record kept every event before it


@pytest.mark.parametrize(("data", "name"), [
    (b"% evt 3.0\n% format EVT3;width=1280;height=720\n% geom", r"Prophesee RAW \(truncated at "
     r"byte 52, inside its text header, which has no '% end' line\)"),
    (b"% evt 2.0\n% geometry 320x320\n", r"Prophesee RAW \(truncated at byte 29, inside its "
     r"text header, which has no '% end' line\)"),
    (b"% Data file containing CD events.\n% Version 2\n% Width 640\n% Height 480\n\x0c",
     r"Prophesee DAT \(truncated at byte 72, inside its text header\)"),
])
def test_a_prophesee_file_cut_in_its_header_is_called_truncated(tmp_path, data, name):
    path = tmp_path / "cut.raw"
    path.write_bytes(data)
    with pytest.raises(CorruptFileError, match=name):
        open_recording(str(path))
