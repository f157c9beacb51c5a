"""``live-snn bench model``: runs end to end on a small preset and reports both paths side by
side with their ratio and the targets; bad arguments get clear errors."""

from __future__ import annotations

import argparse

import pytest

from live_snn.bench import model as bench_model
from live_snn.errors import LiveSnnError


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bench_model.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_bench_runs_both_paths_side_by_side(capsys):
    # --malloc default: keep_freed_memory() would change the whole pytest process.
    args = parse("--presets", "nmnist", "--batch", "1,2", "--device", "cpu", "--T", "5",
                 "--repeats", "1", "--steps", "2", "--malloc", "default")
    assert bench_model.run(args) == 0
    out = capsys.readouterr().out
    assert "| nmnist | cpu | 1 |" in out and "| nmnist | cpu | 2 |" in out
    assert "window re-run (T = 5)" in out
    assert "Parameters: nmnist " in out and " window (published TCJA)." in out
    assert "step ≥ 10× cheaper than the T = 5 window re-run, nmnist batch 1 on cpu" in out
    row = next(line for line in out.splitlines() if line.startswith("| nmnist | cpu | 1 |"))
    step_ms, window_ms, ratio = (cell.strip() for cell in row.split("|")[4:7])
    assert float(step_ms) > 0 and float(window_ms) > 0
    shown = float(window_ms) / float(step_ms)  # ratio of the unrounded times, shown to 0.1
    assert float(ratio.rstrip("×")) == pytest.approx(shown, rel=0.02, abs=0.06)


def test_render_reports_cuda_paths_and_the_h100_target():
    args = parse("--presets", "paper", "--batch", "1")
    rows = [
        bench_model.Row("paper", "cpu", 1, "causal step, default malloc", 80.0),
        bench_model.Row("paper", "cpu", 1, "causal step", 40.0),
        bench_model.Row("paper", "cpu", 1, "causal step, 2 threads", 55.0),
        bench_model.Row("paper", "cpu", 1, "window re-run (T = 20)", 900.0),
        bench_model.Row("paper", "cuda", 1, "causal step", 2.5),
        bench_model.Row("paper", "cuda", 1, "window re-run (T = 20)", 30.0),
        bench_model.Row("paper", "cuda", 1, "step, CUDA graph", 0.6),
        bench_model.Row("paper", "cuda", 1, "step, torch.compile", None, "failed: boom"),
    ]
    text = bench_model.render(rows, args, gpu_name="NVIDIA H100 80GB HBM3", malloc_kept=True,
                              parameters=bench_model.parameter_counts(["paper"], 20))
    assert "Parameters: paper 1,829,408 causal, 1,832,576 window (published TCJA)." in text
    assert "| step, default malloc | step, 2 threads |" in text
    assert "| paper | cpu | 1 | 40.00 | 900.00 | 22.5× | 40.00 | 80.00 | 55.00 |" in text
    assert "| paper | cuda | 1 | 2.50 | 30.00 | 12.0× | 2.50 | - | - |" in text
    assert "Timed with `keep_freed_memory()`" in text
    assert "| paper | 1 | step, CUDA graph | 0.60 |  |" in text
    assert "failed: boom" in text
    assert "paper ≤ 1 ms per step on an H100: best 0.60 ms on NVIDIA H100 80GB HBM3 (met)" in text
    assert "step ≥ 10× cheaper than the T = 20 window re-run, paper batch 1 on cuda: 12.0× (met)" \
        in text


@pytest.mark.parametrize(("argv", "message"), [
    (("--presets", "giant"), "unknown preset"),
    (("--batch", "1,x"), "comma-separated integers"),
    (("--batch", "0"), "positive integers"),
    (("--steps", "0"), "must be positive"),
])
def test_bad_arguments_are_refused(argv, message):
    with pytest.raises(LiveSnnError, match=message):
        bench_model.run(parse("--device", "cpu", "--malloc", "default", *argv))


def test_cuda_without_a_cuda_device_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(LiveSnnError, match="--device cuda: torch .* sees no CUDA device"):
        bench_model.run(parse("--device", "cuda", "--presets", "nmnist", "--malloc", "default"))
