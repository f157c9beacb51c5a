"""Checkpoint metadata is not trusted: every size, dt, weight, class name and readout value is
checked before anything is allocated for it (issue #13, case 7)."""

from __future__ import annotations

import json
import resource

import pytest
import torch
from safetensors.torch import load_file, save_file

from live_snn.errors import CheckpointError, CheckpointMismatchError
from live_snn.model import load_checkpoint


def tampered(source, target, *, metadata=None, tensors=None):
    """``source`` re-saved with metadata entries replaced (raw strings) and tensors changed."""
    from safetensors import safe_open

    with safe_open(str(source), "pt") as f:
        meta = dict(f.metadata())
    weights = load_file(str(source))
    meta.update(metadata or {})
    for name, change in (tensors or {}).items():
        weights[name] = change(weights[name])
    save_file(weights, str(target), metadata=meta)
    return target


def edit_json(source, key, change):
    from safetensors import safe_open

    with safe_open(str(source), "pt") as f:
        value = json.loads(f.metadata()[key])
    change(value)
    return json.dumps(value)


def test_nan_weights_are_refused_naming_the_tensor(causal_ckpt, tmp_path):
    name = next(k for k, v in load_file(str(causal_ckpt)).items() if v.is_floating_point())
    bad = tampered(causal_ckpt, tmp_path / "nan.safetensors",
                   tensors={name: lambda t: t.clone().fill_(float("nan"))})
    with pytest.raises(CheckpointError, match=rf"weight {name} holds \d+ NaN or infinite"):
        load_checkpoint(bad)


@pytest.mark.parametrize(("key", "change", "message"), [
    ("binning", lambda b: b.update(dt_us=1), r"dt_us=1 is outside the plausible range 100\.\."),
    ("model_config", lambda c: c.update(channels=300000),
     r"channels=300000 is outside the plausible range 1\.\.1024"),
    ("model_config", lambda c: c.update(num_blocks=10**9), r"num_blocks must be <= 30"),
    ("model_config", lambda c: c.update(input_size=[4096, 4096]), r"input_size .* outside 2\.\.1024"),
    ("readout", lambda r: r.update(logit_scale="hot"), r"readout logit_scale is 'hot'"),
    ("readout", lambda r: r.update(logit_scale=float("inf")), r"readout logit_scale is inf"),
    ("readout", lambda r: r.update(predictor=[1, 2]), r"readout predictor must be a JSON object"),
    ("readout", lambda r: r.update(uncertain_below=1.5), r"readout uncertain_below is 1\.5"),
    ("readout", lambda r: r.update(predictor={"onset_steps": 2.5}),
     r"readout predictor onset_steps is 2\.5, expected a whole number of steps"),
    ("class_names", lambda n: n.__setitem__(0, "\x1b[31mred"), r"class name 0 .* printable"),
    ("class_names", lambda n: n.__setitem__(1, n[0]), r"class names repeat"),
])
def test_implausible_metadata_is_refused_before_any_allocation(causal_ckpt, tmp_path, key,
                                                               change, message):
    bad = tampered(causal_ckpt, tmp_path / "bad.safetensors",
                   metadata={key: edit_json(causal_ckpt, key, change)})
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(bad)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mb < 200


@pytest.mark.parametrize(("key", "raw", "message"), [
    ("class_names", "handclap,wave", r"metadata 'class_names' is not JSON"),
    ("class_names", json.dumps("abcdefghijk"), r"class_names must be a JSON list of strings"),
    ("readout", "{not json", r"metadata 'readout' is not JSON"),
    ("readout", json.dumps([1, 2]), r"readout must be a JSON object"),
])
def test_malformed_class_names_and_readout_are_refused(causal_ckpt, tmp_path, key, raw, message):
    bad = tampered(causal_ckpt, tmp_path / "bad.safetensors", metadata={key: raw})
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(bad)


def test_a_config_asking_for_more_weights_than_the_file_holds_is_refused(causal_ckpt, tmp_path):
    bigger = edit_json(causal_ckpt, "model_config", lambda c: c.update(channels=1024, hidden=16384))
    bad = tampered(causal_ckpt, tmp_path / "big.safetensors", metadata={"model_config": bigger})
    with pytest.raises(CheckpointError, match=r"weight .* has shape .*, the model needs"):
        load_checkpoint(bad)


def test_an_nmnist_model_on_a_gesture_recording_needs_allow_remap(gesture_sample):
    from live_snn.engine import Engine
    from live_snn.engine.config import EngineConfig
    from live_snn.engine.session import DEFAULT_MODEL_PATH

    nmnist = DEFAULT_MODEL_PATH.parent / "nmnist_causal.safetensors"
    engine = Engine(EngineConfig(device="cpu"))
    try:
        engine.open(str(gesture_sample))
        with pytest.raises(CheckpointMismatchError,
                           match=r"trained on 34x34 sensor → full sensor → no downscale → 34x34 "
                                 r"model; this 128x128 source would be mapped as 128x128 sensor"
                                 r" → centre crop 102x102 .* ÷3 .* --allow-remap"):
            engine.load_model(str(nmnist))
    finally:
        engine.close()
    allowed = Engine(EngineConfig(device="cpu", allow_remap=True))
    try:
        allowed.open(str(gesture_sample))
        allowed.load_model(str(nmnist))
        assert allowed.session_info().mapping.factor == 3
    finally:
        allowed.close()


def test_the_bundled_checkpoints_pass_every_check():
    from live_snn.engine.session import DEFAULT_MODEL_PATH

    for path in DEFAULT_MODEL_PATH.parent.glob("*.safetensors"):
        loaded = load_checkpoint(path)
        assert all(bool(torch.isfinite(p).all()) for p in loaded.model.parameters())
