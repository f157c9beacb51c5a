"""``live-snn record --predictions``: the sidecar written while recording equals a later
replay of the recording, bin by bin."""

from __future__ import annotations

import pytest

from live_snn.cli import main
from live_snn.sinks.jsonl import read_predictions
from live_snn.sinks.sidecar import sidecar_path


def test_record_with_predictions_then_replay_and_compare(gesture_sample, causal_ckpt, tmp_path,
                                                          capsys):
    out = tmp_path / "session.aedat4"
    code = main(["record", str(gesture_sample), str(out), "--predictions",
                 "--model", str(causal_ckpt), "--device", "cpu"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    sidecar = sidecar_path(out)
    assert sidecar == tmp_path / "session.predictions.jsonl" and sidecar.is_file()
    assert f"written to {sidecar}" in printed
    header, live_bins = read_predictions(sidecar)
    assert header["recording"] == "session.aedat4"
    assert len(header["model_sha256"]) == 64 and header["binning"]["dt_us"] == 10_000

    replay = tmp_path / "replay.jsonl"
    assert main(["run", str(out), "--model", str(causal_ckpt), "--device", "cpu",
                 "--speed", "max", "--jsonl", str(replay), "--quiet"]) == 0
    replay_header, replay_bins = read_predictions(replay)
    assert replay_header["model_sha256"] == header["model_sha256"]
    assert replay_header["binning"] == header["binning"] | {"tolerate_time_reversal": False}
    assert len(live_bins) == len(replay_bins) > 100
    keys = ("bin", "t_start_us", "t_end_us", "events", "label", "probs", "smoothed", "scores")
    for live, replayed in zip(live_bins, replay_bins, strict=True):
        assert {k: live[k] for k in keys} == {k: replayed[k] for k in keys}


def test_existing_sidecar_is_not_overwritten(gesture_sample, causal_ckpt, tmp_path, capsys):
    out = tmp_path / "session.aedat4"
    sidecar_path(out).write_text("keep me\n")
    code = main(["record", str(gesture_sample), str(out), "--predictions",
                 "--model", str(causal_ckpt)])
    assert code == 2 and "use --force" in capsys.readouterr().err
    assert sidecar_path(out).read_text() == "keep me\n" and not out.exists()


def test_record_help_lists_predictions(capsys):
    with pytest.raises(SystemExit):
        main(["record", "--help"])
    assert "--predictions" in capsys.readouterr().out
