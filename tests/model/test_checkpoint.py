"""Checkpoints: safetensors + metadata round trip; every mismatch is refused naming both
values; pickle files (torch.save) are refused without ever being unpickled."""

from __future__ import annotations

import hashlib
import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from live_snn.binning import BinningConfig
from live_snn.classes import NMNIST_CLASSES
from live_snn.errors import CheckpointError, CheckpointMismatchError
from live_snn.events import Resolution
from live_snn.model import ModelConfig, build_model, load_checkpoint, save_checkpoint
from live_snn.model.checkpoint import CheckpointExpectation

BINNING = BinningConfig(dt_us=10_000, sensor=Resolution(34, 34), model=Resolution(34, 34))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.manual_seed(3)
    model = build_model(ModelConfig(preset="nmnist", encoder="gac", tim_blocks=(1,)))
    for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.running_mean.uniform_(-1.0, 1.0)  # as if trained: buffers must round-trip too
        bn.running_var.uniform_(0.5, 2.0)
        bn.num_batches_tracked.fill_(123)
    model.eval()
    path = save_checkpoint(tmp_path_factory.mktemp("ckpt") / "nmnist.safetensors", model,
                           binning=BINNING,
                           class_names=NMNIST_CLASSES,
                           training={"data": "N-MNIST subset, 1000 samples", "epochs": 3},
                           metrics={"val_accuracy": 0.91}, readout={"logit_scale": 8.0})
    return model, path


def test_round_trip_restores_weights_config_binning_and_metadata(saved, spike_input):
    model, path = saved
    loaded = load_checkpoint(path)
    assert loaded.config == model.config
    assert loaded.binning == BINNING
    assert loaded.class_names == NMNIST_CLASSES
    assert loaded.training == {"data": "N-MNIST subset, 1000 samples", "epochs": 3}
    assert loaded.metrics == {"val_accuracy": 0.91}
    assert loaded.logit_scale == 8.0
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not loaded.model.training
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], tensor), name
    x = spike_input(5, 2, 2, 34, 34)
    with torch.inference_mode():
        assert torch.equal(loaded.model(x), model(x))
    assert not list(path.parent.glob("*.tmp")), "the temporary file must be renamed away"


def test_readout_defaults_to_a_logit_scale_of_ten(tmp_path):
    model = build_model(ModelConfig(preset="nmnist"))
    path = save_checkpoint(tmp_path / "m.safetensors", model, binning=BINNING,
                           class_names=NMNIST_CLASSES)
    assert load_checkpoint(path).logit_scale == 10.0


@pytest.mark.parametrize(("expect", "fragments"), [
    ({"preset": "lite"}, ["preset", "'nmnist'", "'lite'"]),
    ({"input_size": (64, 64)}, ["input_size", "(34, 34)", "(64, 64)"]),
    ({"T": 20}, ["T is 10", "20 was expected"]),
    ({"num_classes": 11}, ["num_classes is 10", "11 was expected"]),
    ({"dt_us": 50_000}, ["dt_us is 10000", "50000 was expected"]),
    ({"class_names": [str(d) for d in range(9)] + ["nine"]},
     ["class names differ from index 9", "'9'", "'nine'"]),
])
def test_each_mismatch_is_refused_naming_both_values(saved, expect, fragments):
    _, path = saved
    with pytest.raises(CheckpointMismatchError) as info:
        load_checkpoint(path, expect=expect)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_matching_expectation_loads(saved):
    _, path = saved
    expect = CheckpointExpectation(preset="nmnist", input_size=(34, 34), T=10, num_classes=10,
                                   class_names=NMNIST_CLASSES, dt_us=10_000)
    assert load_checkpoint(path, expect=expect).config.preset == "nmnist"
    with pytest.raises(TypeError, match="unknown checkpoint expectations"):
        load_checkpoint(path, expect={"colour": "red"})


def test_save_refuses_metadata_that_contradicts_the_model(tmp_path):
    model = build_model(ModelConfig(preset="nmnist"))
    with pytest.raises(CheckpointMismatchError, match="11 class names given for a model with 10"):
        save_checkpoint(tmp_path / "a.safetensors", model, binning=BINNING,
                        class_names=[str(i) for i in range(11)])
    wrong = BinningConfig(dt_us=10_000, sensor=Resolution(128, 128), model=Resolution(64, 64))
    with pytest.raises(CheckpointMismatchError, match="64x64 does not match the network's input 34x34"):
        save_checkpoint(tmp_path / "b.safetensors", model, binning=wrong, class_names=NMNIST_CLASSES)


class _Marker:
    """Unpickling this creates a file: proof that nothing was unpickled if it is absent."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("name", ["weights.pt", "weights.safetensors"])
def test_torch_save_files_are_refused_without_unpickling(tmp_path, name):
    marker = tmp_path / "unpickled"
    payload = {"state_dict": build_model(ModelConfig(preset="nmnist")).state_dict(),
               "trap": _Marker(marker)}
    path = tmp_path / name
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="torch.save .* never loads pickle"):
        load_checkpoint(path)
    assert not marker.exists()


def test_a_raw_pickle_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "unpickled"
    path = tmp_path / "old.safetensors"
    path.write_bytes(pickle.dumps(_Marker(marker), protocol=2))
    with pytest.raises(CheckpointError, match="Python pickle .* never loads pickle"):
        load_checkpoint(path)
    assert not marker.exists()


def test_other_bad_files_get_specific_messages(tmp_path, saved):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.safetensors")
    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(2)}, str(plain))
    with pytest.raises(CheckpointError, match="not a live_snn checkpoint"):
        load_checkpoint(plain)
    text = tmp_path / "notes.safetensors"
    text.write_text("hello, this is not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(text)
    _, good = saved
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(good.read_bytes()[:-1000])
    with pytest.raises(CheckpointError, match="damaged tensor data"):
        load_checkpoint(truncated)


def test_weights_that_do_not_fit_the_stored_config_are_refused(tmp_path, saved):
    _, path = saved
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        metadata = fh.metadata()
        names = list(fh.keys())
        tensors = {k: fh.get_tensor(k) for k in names}
    config = json.loads(metadata["model_config"])
    config["channels"] = 16
    metadata["model_config"] = json.dumps(config)
    edited = tmp_path / "edited.safetensors"
    save_file(tensors, str(edited), metadata=metadata)
    with pytest.raises(CheckpointError, match="has shape .* the model needs"):
        load_checkpoint(edited)
