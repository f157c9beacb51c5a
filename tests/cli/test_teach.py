"""``live-snn teach record`` and ``teach train`` end to end with the simulated person, and
bad input answered in one line with nothing lost."""

from __future__ import annotations

import json

from live_snn.cli import main
from live_snn.sinks.teach_folder import LABELS_FILE, META_FILE, read_teach_folder


def test_record_prompts_on_the_terminal_and_writes_a_session(tmp_path, capsys):
    out = tmp_path / "s"
    code = main(["teach", "record", "sim:seed=5,speed=max", "--classes", "arm roll, swipe",
                 "--perform", "swipe=hand-clap", "--takes", "1", "--take-s", "1",
                 "--countdown-s", "1", "--rest-s", "0.3", "--order", "fixed", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    lines = printed.splitlines()
    assert "Get ready: arm roll — 1" in lines and "Go: arm roll   (take 1 of 2)" in lines
    assert lines.index("Get ready: swipe — 1") < lines.index("Go: swipe   (take 2 of 2)")
    assert "wrote 2 takes" in printed
    folder = read_teach_folder(out)
    assert folder.takes_per_class() == {"arm roll": 1, "swipe": 1}


def test_train_then_eval_use_the_checkpoint_as_it_is(taught_folder, tmp_path, capsys):
    model = tmp_path / "my.safetensors"
    assert main(["teach", "train", str(taught_folder), "--out", str(model), "--steps", "2"]) == 0
    assert "validation streaming accuracy" in capsys.readouterr().out
    report = tmp_path / "eval.json"
    assert main(["eval", "--model", str(model), "--data", f"teach:{taught_folder}",
                 "--streaming-only", "--device", "cpu", "--json", str(report)]) == 0
    evaluation = json.loads(report.read_text())
    assert evaluation["class_names"] == ["right hand wave", "swipe"]
    assert evaluation["segments"] == 4 and evaluation["clip_accuracy"] is None


def test_bad_input_gets_one_line_and_nothing_is_lost(taught_folder, tmp_path, capsys,
                                                     make_checkpoint):
    (tmp_path / "nolabels").mkdir()
    assert main(["teach", "train", str(tmp_path / "nolabels"), "--out",
                 str(tmp_path / "x.safetensors")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("live-snn teach: error:") and "\n" not in error
    assert "no teach" in error and not (tmp_path / "x.safetensors").exists()

    base = make_checkpoint(tmp_path / "other.safetensors", dt_us=10_000)
    assert main(["teach", "train", str(taught_folder), "--base", str(base), "--out",
                 str(tmp_path / "x.safetensors")]) == 2
    assert "bins of 10 ms" in capsys.readouterr().err

    before = (taught_folder / LABELS_FILE).read_text(), (taught_folder / META_FILE).read_text()
    assert main(["teach", "record", "sim:speed=max", "--classes", "arm roll", "--out",
                 str(taught_folder)]) == 2
    assert "already holds a taught session" in capsys.readouterr().err
    assert ((taught_folder / LABELS_FILE).read_text(),
            (taught_folder / META_FILE).read_text()) == before
