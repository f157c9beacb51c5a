"""DVS128 Gesture (IBM layout) and N-MNIST into labelled sessions, and the train / eval
commands end to end on a tiny DVS128 Gesture folder written by the test."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from live_snn.binning import BinningConfig
from live_snn.cli import main
from live_snn.events import Resolution
from live_snn.train.data_spec import parse_data_spec
from live_snn.train.loaders import load_sessions
from live_snn.train.sessions import Segment

_WRITER = Path(__file__).resolve().parents[1] / "sources" / "aedat31_writer.py"


def _writer():
    spec = importlib.util.spec_from_file_location("aedat31_writer", _WRITER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _gesture_folder(root: Path) -> Path:
    """One 3 s recording: class 3 (left hand wave) at 1.2-2.0 s, class 5 at 2.4-3.6 s, events
    only in the left half during the first gesture and the right half during the second."""
    w = _writer()
    rng = np.random.default_rng(0)
    parts = []
    for start, end, x_lo in ((1_000_000, 2_000_000, 0), (2_400_000, 4_000_000, 64)):
        n = 3000
        parts.append((np.sort(rng.integers(start, end, n)), rng.integers(x_lo, x_lo + 64, n),
                      rng.integers(0, 128, n), rng.integers(0, 2, n)))
    t, x, y, p = (np.concatenate(a) for a in zip(*parts, strict=True))
    w.write_aedat31(root / "user01_natural.aedat", [w.polarity_packet(t, x, y, p)])
    w.write_labels(root / "user01_natural_labels.csv",
                   [(3, 1_200_000, 2_000_000), (5, 2_400_000, 3_600_000)])
    (root / "trials_to_train.txt").write_text("user01_natural.aedat\n")
    (root / "trials_to_test.txt").write_text("user01_natural.aedat\n")
    return root


def test_dvs_gesture_recording_becomes_one_labelled_session(tmp_path):
    root = _gesture_folder(tmp_path)
    binning = BinningConfig(dt_us=100_000, sensor=Resolution(128, 128), model=Resolution(64, 64))
    (session,) = load_sessions(parse_data_spec(f"dvsgesture:{root}"), binning, split="train",
                               cache_dir=tmp_path / "cache")
    # bins of 100 ms from the first event (~1.0 s): gesture 1 = bins 2..9, gesture 2 = 14..25
    assert session.segments == (Segment(2, 2, 10), Segment(4, 14, 26))
    assert int(session.frames.sum()) == 6000        # every event binned, 2x2 pixels summed
    assert session.frames[2:10, :, :, 32:].sum() == 0  # first gesture: left half only
    cached = load_sessions(parse_data_spec(f"dvsgesture:{root}"), binning, split="train",
                           cache_dir=tmp_path / "cache")[0]
    assert cached.segments == session.segments
    assert (cached.frames == session.frames).all()


def test_nmnist_samples_are_laid_into_streams(nmnist_dir):
    binning = BinningConfig(dt_us=10_000, sensor=Resolution(34, 34), model=Resolution(34, 34))
    sessions = load_sessions(parse_data_spec(f"nmnist:{nmnist_dir},per_session=5,limit=20"),
                             binning, split="test", seed=1)
    assert [len(s.segments) for s in sessions] == [5, 5, 5, 5]
    assert all(len(s) == 5 * 32 for s in sessions)
    assert all(seg.end - seg.start == 32 for s in sessions for seg in s.segments)
    assert sessions[0].frames.sum() > 0


def test_nmnist_holdout_keeps_the_same_samples_out_of_training_for_any_seed(nmnist_dir):
    binning = BinningConfig(dt_us=30_000, sensor=Resolution(34, 34), model=Resolution(34, 34))
    spec = parse_data_spec(f"nmnist:{nmnist_dir},per_session=5,limit=40,holdout=10")

    def clips(split, seed):
        sessions = load_sessions(spec, binning, split=split, seed=seed)
        return {s.frames[g.start:g.end].numpy().tobytes() for s in sessions for g in s.segments}

    train, val = clips("train", 0), clips("val", 0)
    assert len(train) == 30 and len(val) == 10
    assert not train & val
    assert clips("val", 7) == val and clips("train", 7) == train  # the run seed only reorders
    everything = clips("train", 0) | clips("val", 0)
    unsplit = parse_data_spec(f"nmnist:{nmnist_dir},per_session=5,limit=40")
    assert everything == {s.frames[g.start:g.end].numpy().tobytes()
                          for s in load_sessions(unsplit, binning, split="train")
                          for g in s.segments}


def test_a_val_split_needs_a_holdout_and_only_nmnist_has_one(nmnist_dir):
    from live_snn.train.data_spec import DataSpecError

    binning = BinningConfig(dt_us=30_000, sensor=Resolution(34, 34), model=Resolution(34, 34))
    with pytest.raises(DataSpecError, match="add holdout=N"):
        load_sessions(parse_data_spec(f"nmnist:{nmnist_dir}"), binning, split="val")
    with pytest.raises(DataSpecError, match="unknown options.*holdout"):
        parse_data_spec(f"dvsgesture:{nmnist_dir},holdout=3")


def test_train_then_eval_commands_on_a_tiny_dvs_gesture_folder(tmp_path):
    (tmp_path / "data").mkdir()
    root = _gesture_folder(tmp_path / "data")
    out = tmp_path / "run"
    data = f"dvsgesture:{root}"
    code = main(["train", "--data", data, "--preset", "lite", "--steps", "2",
                 "--batch-size", "2", "--window", "6", "--burn-in", "2", "--dt-ms", "50",
                 "--eval-every", "2", "--threads", "1", "--out", str(out),
                 "--loss-grace-ms", "0", "--keep", "fastest:0.5", "--ema-tau", "3"])
    assert code == 0
    assert (out / "best.safetensors").is_file() and (out / "resume.safetensors").is_file()
    from live_snn.model import load_checkpoint
    trained = load_checkpoint(out / "best.safetensors")
    # The loss starts at the segment's first bin; validation still skips the 100 ms grace.
    assert trained.training["window"]["grace"] == 0 and trained.readout["grace_ms"] == 100.0
    assert trained.training["keep"] == {"kind": "fastest", "min_accuracy": 0.5}
    code = main(["eval", "--model", str(out / "last.safetensors"), "--data", data,
                 "--json", str(tmp_path / "r.json"), "--plot", str(tmp_path / "r.png"),
                 "--threads", "1"])
    assert code == 0
    report = json.loads((tmp_path / "r.json").read_text())
    for key in ("clip_accuracy", "streaming_accuracy", "confusion"):
        assert report[key] is not None
    assert set(report["onset_latency_ms"]) >= {"median", "p90"}
    assert report["segments"] == 2 and len(report["confusion"]) == 11
    assert (tmp_path / "r.png").stat().st_size > 1000

    # A new run from those weights: recorded in its checkpoints; a resume keeps the record.
    code = main(["train", "--data", data, "--preset", "lite", "--steps", "2",
                 "--batch-size", "2", "--window", "6", "--burn-in", "2", "--dt-ms", "50",
                 "--eval-every", "1", "--threads", "1", "--init-from",
                 str(out / "last.safetensors"), "--max-steps-this-run", "1",
                 "--out", str(tmp_path / "more")])
    assert code == 0
    assert main(["train", "--data", data, "--preset", "lite", "--steps", "2",
                 "--batch-size", "2", "--window", "6", "--burn-in", "2", "--dt-ms", "50",
                 "--eval-every", "1", "--threads", "1", "--init-from",
                 str(out / "last.safetensors"), "--resume", "--out", str(tmp_path / "more")]) == 0
    from live_snn.model import load_checkpoint
    continued = load_checkpoint(tmp_path / "more" / "last.safetensors").training
    assert continued["steps"] == 2
    assert continued["init_from"]["steps"] == 2
    assert continued["init_from"]["sha256"] == load_checkpoint(out / "last.safetensors").sha256
    # validated, and recorded, under the smoothing of the model it started from
    assert continued["validation"]["ema_tau_steps"] == 3.0
    assert load_checkpoint(tmp_path / "more" / "last.safetensors").readout["predictor"][
        "ema_tau_steps"] == 3.0

    calibrated = tmp_path / "calibrated.safetensors"
    assert main(["eval", "--model", str(out / "last.safetensors"), "--data", data,
                 "--threads", "1", "--ema-tau", "3", "--calibrate-out", str(calibrated)]) == 0
    readout = load_checkpoint(calibrated).readout
    # fitted under EMA τ=3, which becomes the model's own smoothing
    assert readout["predictor"]["ema_tau_steps"] == 3.0
    assert readout["uncertain_calibration"]["ema_tau_steps"] == 3.0
    assert readout["logit_scale"] > 0
    assert readout["calibration"]["nll_after"] <= readout["calibration"]["nll_before"]
    assert 0.0 <= readout["uncertain_below"] < 1.0
    fitted = readout["uncertain_calibration"]
    assert fitted["rest_steps"] > 0 and fitted["gesture_steps"] > 0
    # what it saves is the float32 network: calibrating a bfloat16 copy would be another model
    refused = tmp_path / "refused.safetensors"
    assert main(["eval", "--model", str(out / "last.safetensors"), "--data", data,
                 "--conv-dtype", "bfloat16", "--calibrate-out", str(refused)]) == 2
    assert not refused.exists()
    report = tmp_path / "bf16.json"
    assert main(["eval", "--model", str(out / "last.safetensors"), "--data", data,
                 "--threads", "1", "--conv-dtype", "bfloat16", "--json", str(report)]) == 0
    assert json.loads(report.read_text())["conv_dtype"] == "bfloat16"


def test_bad_data_specs_name_the_problem(tmp_path):
    from live_snn.train.data_spec import DataSpecError

    with pytest.raises(DataSpecError, match="no kind"):
        parse_data_spec("somewhere")
    with pytest.raises(DataSpecError, match="is not a directory"):
        parse_data_spec(f"nmnist:{tmp_path / 'missing'}")
    with pytest.raises(DataSpecError, match="seeds"):
        parse_data_spec("sim:duration=3")
    with pytest.raises(DataSpecError, match="runs backwards"):
        parse_data_spec("sim:seeds=5-1")
    assert parse_data_spec("sim:seeds=1-3+7,duration=2").seeds == (1, 2, 3, 7)
