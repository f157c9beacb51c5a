from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from live_snn.binning import BinningConfig
from live_snn.cli import main
from live_snn.engine import session as engine_session
from live_snn.events import EventBatch
from live_snn.model import ModelConfig, build_model, save_checkpoint
from live_snn.sinks.jsonl import read_predictions

DT = 10_000
RECORDING = "dvsgesture_sample_02.aedat4"


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: one intra-op thread (see tests/engine/conftest.py)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(1)
    model = build_model(ModelConfig(preset="lite", input_size=(32, 32), channels=16, hidden=64,
                                    num_blocks=3)).eval()
    with torch.no_grad():  # larger random weights: spikes reach the readout
        for p in model.parameters():
            if p.dim() > 1:
                p.mul_(10.0)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    binning = BinningConfig(dt_us=DT, sensor=(128, 128), model=(32, 32))
    return save_checkpoint(path, model, binning=binning, class_names=[f"c{k}" for k in range(11)])


@pytest.fixture(scope="module")
def recording(recordings_dir):
    path = recordings_dir / RECORDING
    from live_snn.sources.aedat4 import Aedat4Source

    with Aedat4Source(path) as source:
        events = EventBatch.concatenate(list(source))
    return path, events


def test_run_writes_one_jsonl_record_per_bin_and_a_summary(recording, checkpoint, tmp_path, capsys):
    path, events = recording
    jsonl, summary = tmp_path / "p.jsonl", tmp_path / "s.json"
    code = main(["run", str(path), "--model", str(checkpoint), "--device", "cpu",
                 "--speed", "max", "--jsonl", str(jsonl), "--summary-json", str(summary)])
    out, err = capsys.readouterr()
    assert code == 0, err
    n_bins = math.ceil((events.t_last - events.t_first + 1) / DT)
    header, bins = read_predictions(jsonl)
    assert header["type"] == "session" and header["dt_us"] == DT
    assert header["model_sha256"] and header["binning"]["dt_us"] == DT
    assert header["class_names"] == [f"c{k}" for k in range(11)]
    assert len(bins) == n_bins
    assert [b["bin"] for b in bins] == list(range(n_bins))
    assert sum(b["events"] for b in bins) == len(events)
    for b in bins:
        assert b["t_end_us"] - b["t_start_us"] == DT
        assert abs(sum(b["probs"]) - 1) < 1e-4 and b["label"] == max(
            range(11), key=lambda k: b["smoothed"][k])
        assert set(b["latency_ms"]) == {"event_to_bin", "queue", "step", "bin_to_prediction"}
    s = json.loads(summary.read_text())
    assert s["events_in"] == len(events) and s["bins"] == n_bins
    assert s["bins_skipped"] == 0 and s["events_dropped"] == 0 and s["realtime_factor"] > 0
    for stage in ("event_to_bin", "queue", "step", "bin_to_prediction"):
        assert s["latency_ms"][stage]["p99"] >= s["latency_ms"][stage]["p50"] >= 0
    # the printed summary names the same numbers
    assert f"{len(events)} in" in out and f"{n_bins} predicted, 0 skipped" in out
    assert "bin_to_prediction" in out and "real-time factor" in out
    assert f"{n_bins} bins written to {jsonl}" in out


def test_run_without_a_model_and_without_the_bundled_one(recording, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(engine_session, "DEFAULT_MODEL_PATH", tmp_path / "absent.safetensors")
    code = main(["run", str(recording[0]), "--device", "cpu", "--speed", "max"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no model given and no bundled model found" in err


def test_run_reports_a_bad_source_clearly(checkpoint, tmp_path, capsys):
    code = main(["run", str(tmp_path / "missing.aedat4"), "--model", str(checkpoint)])
    assert code == 2
    assert "missing.aedat4" in capsys.readouterr().err


def test_run_rejects_a_bad_speed(capsys):
    with pytest.raises(SystemExit):
        main(["run", "x.aedat4", "--speed", "fast"])
    assert "speed must be a number or 'max'" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--summary-json", "--jsonl"])
def test_an_output_in_a_missing_folder_fails_before_the_run(recording, checkpoint, tmp_path,
                                                            capsys, option):
    jsonl = tmp_path / "p.jsonl"
    bad = tmp_path / "missing" / "out.json"
    argv = ["run", str(recording[0]), "--model", str(checkpoint), "--device", "cpu",
            "--speed", "max", "--quiet", option, str(bad)]
    if option != "--jsonl":
        argv += ["--jsonl", str(jsonl)]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    assert f"{option} {bad}: folder {bad.parent} does not exist" in err
    assert not jsonl.exists() and "state:" not in out  # nothing was run


@pytest.mark.parametrize("argv, message", [
    (["--tau", "0"], "--tau must be >= 1 step"),
    (["--max-pending", "0"], "--max-pending must be >= 1"),
    (["--reset-on-silence", "-5"], "--reset-on-silence must be > 0"),
    (["--gather-ms", "-1"], "--gather-ms must be between 0 and 1000 ms"),
    (["--gather-ms", "inf"], "--gather-ms must be between 0 and 1000 ms"),
])
def test_bad_engine_options_are_named_as_typed(capsys, argv, message):
    assert main(["run", "x.aedat4", *argv]) == 2
    assert message in capsys.readouterr().err


def test_ctrl_c_ends_cleanly_with_the_summary(recording, checkpoint, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    jsonl = tmp_path / "p.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "live_snn", "run", str(recording[0]), "--model", str(checkpoint),
         "--device", "cpu", "--speed", "0.1", "--threads", "1", "--jsonl", str(jsonl)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell's background job starts with SIGINT ignored; Ctrl-C must reach the child.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not jsonl.exists() or
                                               len(jsonl.read_text().splitlines()) < 3):
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert "interrupted" in err
    assert "state: stopped" in out and "latency (ms)" in out
    lines = jsonl.read_text().splitlines()
    assert len(lines) >= 3 and all(json.loads(line) for line in lines)  # complete lines only


def test_run_on_the_simulator_with_labels(checkpoint, tmp_path, capsys):
    jsonl = tmp_path / "sim.jsonl"
    code = main(["run", "sim:seed=3", "--model", str(checkpoint), "--device", "cpu",
                 "--duration", "1.5", "--jsonl", str(jsonl), "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0, err
    header, bins = read_predictions(jsonl)
    assert header["is_live"] is True and header["num_bins"] is None
    assert len(bins) > 50
    assert [b["bin"] for b in bins] == sorted({b["bin"] for b in bins})
    assert any(b["ground_truth"] >= 0 for b in bins)  # the simulator says what it performs
    assert "state: stopped" in out


def test_run_with_bfloat16_convolutions_or_a_clear_refusal(recording, checkpoint, tmp_path,
                                                           capsys, monkeypatch):
    from live_snn.engine import runner
    from live_snn.model.inference import bfloat16_is_native

    path, events = recording
    argv = ["run", str(path), "--model", str(checkpoint), "--device", "cpu", "--speed", "max",
            "--quiet"]
    if bfloat16_is_native(torch.device("cpu")):
        runs = {}
        for dtype in ("float32", "bfloat16", "bfloat16"):
            jsonl = tmp_path / f"{dtype}.jsonl"
            jsonl.unlink(missing_ok=True)
            code = main([*argv, "--conv-dtype", dtype, "--jsonl", str(jsonl)])
            err = capsys.readouterr().err
            assert code == 0, err
            assert ("bfloat16 convolutions" in err) == (dtype == "bfloat16")
            header, bins = read_predictions(jsonl)
            assert header["conv_dtype"] == dtype
            assert sum(b["events"] for b in bins) == len(events)
            scores = [b["scores"] for b in bins]
            assert runs.setdefault(dtype, scores) == scores, "the same run twice, the same scores"
        assert runs["bfloat16"] != runs["float32"], "bfloat16 convolutions were not used"
    argv += ["--conv-dtype", "bfloat16"]
    monkeypatch.setattr(runner, "bfloat16_is_native", lambda device: False)
    code = main([*argv, "--jsonl", str(tmp_path / "refused.jsonl")])
    err = capsys.readouterr().err
    assert code == 2
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1 and "this CPU has no bfloat16 instructions" in errors[0], err
    assert "Traceback" not in err and not (tmp_path / "refused.jsonl").exists()


def test_the_banner_names_the_smoothing_and_when_the_threshold_was_fitted_under_another(
        checkpoint, with_readout, tmp_path, capsys):
    recording = Path(__file__).resolve().parents[2] / "recordings" / "demo_seed30000_0000.aedat4"
    own = with_readout(checkpoint, uncertain_below=0.5,
                       uncertain_calibration={"smoothing": "ema", "ema_tau_steps": 5.0})
    run = ["run", str(recording), "--model", str(own), "--device", "cpu", "--speed", "max"]
    assert main(run) == 0
    err = capsys.readouterr().err
    assert "predictor: EMA τ=5 steps, uncertain below confidence 0.5" in err
    assert "note:" not in err
    jsonl = tmp_path / "p.jsonl"
    assert main([*run, "--tau", "10", "--jsonl", str(jsonl)]) == 0
    err = capsys.readouterr().err
    assert "predictor: EMA τ=10 steps, uncertain below confidence 0.5" in err
    note = ("the model's uncertain threshold 0.5 was fitted under EMA τ=5 steps; it is still "
            "applied under this run's smoothing (EMA τ=10 steps)")
    assert f"note: {note}" in err
    header, _ = read_predictions(jsonl)  # what the file says of the run, for later
    assert header["predictor"]["ema_tau_steps"] == 10.0
    assert header["predictor"]["uncertain_below"] == 0.5
    assert header["uncertain_note"].startswith(note)
