"""``live-snn bench realism`` end to end on a few short gestures: it judges, measures,
says what it skipped and why, and draws its figure."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
from safetensors.torch import save_file

from live_snn.bench import realism
from live_snn.bench.judge import JUDGE_TENSORS
from live_snn.cli import main


def _args(tmp_path, judge, recordings) -> list[str]:
    return ["bench", "realism", "--per-class", "1", "--gesture-s", "0.6", "0.6", "--workers", "1",
            "--judge", str(judge), "--recordings", str(recordings)]


@pytest.mark.slow
def test_without_judge_or_recordings_it_says_so_and_still_measures(tmp_path, capsys):
    empty = tmp_path / "recordings"
    empty.mkdir()
    assert main(_args(tmp_path, tmp_path / "absent.safetensors", empty)) == 0
    out = capsys.readouterr().out
    assert "judge: skipped: no real-data network at" in out
    assert f"real recordings: skipped: no 128x128 recordings in {empty}" in out
    assert "simulated and measured 11 gestures" in out
    assert "| event rate k events/s | - |" in out  # no real range to compare with


def test_a_bad_judge_file_fails_before_any_simulation(tmp_path, capsys):
    import torch

    weights = {name: torch.ones(shape) for name, shape in JUDGE_TENSORS.items()}
    del weights["conv1.bias"]
    judge = tmp_path / "judge.safetensors"
    save_file(weights, str(judge))
    assert main(_args(tmp_path, judge, tmp_path)) == 2
    assert "conv1.bias: expected shape (16,), got nothing" in capsys.readouterr().err


def test_the_report_gives_accuracy_recall_statistics_and_a_figure():
    namespace = argparse.Namespace(per_class=1, seed=800_000, gesture_s=(0.6, 0.6))
    simulated = [realism.SimulatedGesture(label, label, {s.key: 1.0 for s in realism.STATS},
                                          np.ones((128, 128))) for label in range(11)]
    real = [("rec", {s.key: 2.0 for s in realism.STATS}, np.ones((128, 128)))]
    report = realism.report_markdown(simulated, real, namespace)
    assert "**11 of 11 (100.0 %)**" in report and "| hand clap | 1/1 | - |" in report
    assert "| event rate k events/s | 2.0 – 2.0 | 1.0 [1.0 – 1.0] | **no** |" in report
    figure = realism.render_figure(simulated, [])
    assert figure.ndim == 3 and figure.shape[0] > 300 and figure.std() > 10
