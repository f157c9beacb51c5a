"""``live-snn simulate``: sessions with labels on disk, reproducible, nothing overwritten."""

from __future__ import annotations

import numpy as np

from live_snn.cli import main
from live_snn.events import EventBatch, events_checksum
from live_snn.labels import read_labels_csv


def _read_events(path):
    import dv_processing as dv

    recording = dv.io.MonoCameraRecording(str(path))
    parts = []
    while (store := recording.getNextEventBatch()) is not None:
        parts.append(store.numpy())
    return EventBatch.from_dv_numpy(np.concatenate(parts), recording.getEventResolution())


def test_simulate_writes_labelled_sessions_reproducibly(tmp_path, capsys):
    args = ["simulate", "--seed", "7", "--gestures", "1", "--classes", "right-hand-wave", "3"]
    assert main([*args, "--out", str(tmp_path / "a"), "--sessions", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 session(s)" in out and "seed 7" in out
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["sim_seed7_0000.aedat4", "sim_seed7_0000_labels.csv",
                     "sim_seed7_0001.aedat4", "sim_seed7_0001_labels.csv"]
    for index in (0, 1):
        labels = read_labels_csv(tmp_path / "a" / f"sim_seed7_{index:04d}_labels.csv")
        assert len(labels.segments) == 1 and labels.segments[0].label in (1, 2)
        events = _read_events(tmp_path / "a" / f"sim_seed7_{index:04d}.aedat4")
        assert len(events) > 10_000
        assert labels.label_at(events.t).max() == labels.segments[0].label
    # The same command gives the same files (here: session 1 again, on its own).
    assert main([*args, "--out", str(tmp_path / "b"), "--sessions", "1", "--first-session", "1"]) == 0
    for name in names[2:]:
        a, b = (tmp_path / d / name for d in "ab")
        if name.endswith(".csv"):
            assert a.read_text() == b.read_text()
        else:
            assert events_checksum(_read_events(a).events) == events_checksum(_read_events(b).events)


def test_simulate_refuses_to_overwrite_and_reports_bad_input(tmp_path, capsys):
    args = ["simulate", "--out", str(tmp_path), "--duration-s", "2", "--resolution", "64x48"]
    assert main(args) == 0
    assert main(args) == 2
    assert "exist already" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
    assert main(["simulate", "--out", str(tmp_path), "--classes", "salute"]) == 2
    assert "unknown gesture class 'salute'" in capsys.readouterr().err
    assert main(["simulate", "--out", str(tmp_path), "--sessions", "0"]) == 2
    assert main(["simulate", "--out", str(tmp_path), "--resolution", "big"]) == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err


def test_an_absurd_resolution_is_one_line(tmp_path, capsys):
    from live_snn.cli import main

    assert main(["simulate", "--out", str(tmp_path), "--resolution", "100000x100000"]) == 2
    err = capsys.readouterr().err
    assert "at most 2048 pixels a side" in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
