"""``train`` refuses data it cannot use before the first step, and ``files:`` takes a folder
(issue #13, case 9)."""

from __future__ import annotations

import shutil

import pytest

from live_snn.cli import main
from live_snn.train.data_check import check_training_data
from live_snn.train.data_spec import DataSpecError, parse_data_spec


def test_a_folder_of_recordings_is_a_files_spec(gesture_sample, tmp_path):
    for name in ("b.aedat4", "a.aedat4"):
        shutil.copy(gesture_sample, tmp_path / name)
    spec = parse_data_spec(f"files:{tmp_path}")
    assert [p.name for p in spec.paths] == ["a.aedat4", "b.aedat4"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataSpecError, match=r"folder .*empty holds no \.aedat4 recordings"):
        parse_data_spec(f"files:{empty}")


def test_unlabelled_validation_data_is_refused_before_training(gesture_sample, tmp_path, capsys):
    unlabelled = shutil.copy(gesture_sample, tmp_path / "u.aedat4")
    with pytest.raises(DataSpecError, match=r"--val-data files:.*1 of 1 recordings have no "
                                            r"labels .*u_labels\.csv|u\.aedat4"):
        check_training_data("sim:seeds=0-1", f"files:{unlabelled}")
    out = tmp_path / "run"
    code = main(["train", "--data", "sim:seeds=0-1", "--val-data", f"files:{unlabelled}",
                 "--out", str(out), "--steps", "1"])
    assert code == 2 and "have no labels" in capsys.readouterr().err
    assert not out.exists()  # refused before anything was made


def test_a_bad_keep_rule_is_refused_before_training(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--data", "sim:seeds=0-1", "--val-data", "sim:seeds=5-6",
                 "--out", str(out), "--steps", "1", "--keep", "fastest"])
    assert code == 2
    assert "--keep fastest: 'fastest' needs an accuracy floor" in capsys.readouterr().err
    assert not out.exists()


def test_a_bad_data_spec_names_its_option():
    with pytest.raises(DataSpecError, match=r"--data: data spec 'nmnist:/nowhere'"):
        check_training_data("nmnist:/nowhere", None)


def test_taught_session_folders_pass_the_label_check(taught_folder):
    """A ``teach:`` folder carries its labels (teach_labels.csv), read when the spec parses."""
    spec, val = check_training_data(f"teach:{taught_folder}", f"teach:{taught_folder}")
    assert spec.kind == "teach" and val is not None and val.kind == "teach"
