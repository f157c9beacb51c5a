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
                                               r"header \(not supported\)") as info:
        open_recording(str(path))
    assert "truncated" not in str(info.value)


@pytest.mark.parametrize(("head", "name"), [
    (b"% camera_integrator_name Prophesee\n% evt 3.0\n% end\n", r"Prophesee RAW \(3\.0"),
    (b"% Data file containing CD events.\n% Version 2\n% Height 480\n", "Prophesee DAT"),
    (b"#!AER-DAT2.0\r\n# jAER\r\n", r"AEDAT 2\.0 \(jAER\)"),
    (b"Event Stream\x02\x00\x00\x01", r"Event Stream \(\.es\)"),
    (b"\x89HDF\r\n\x1a\n" + bytes(40), "HDF5"),
])
def test_other_event_formats_are_named(tmp_path, head, name):
    path = tmp_path / "file.raw"
    path.write_bytes(head + bytes(200))
    with pytest.raises(CorruptFileError, match=name + ".*not supported"):
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
