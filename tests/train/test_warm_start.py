"""``--init-from``: a new run starts from an earlier checkpoint's weights, and only from one
of the same network, binning and classes."""

from dataclasses import replace

import pytest
import torch

from live_snn.errors import CheckpointMismatchError
from live_snn.model import build_model, save_checkpoint
from live_snn.train.warm_start import init_from_checkpoint

from .synthetic import CLASS_NAMES, tiny_binning, tiny_config, tiny_model


@pytest.fixture
def saved(tmp_path):
    model = tiny_model(seed=1)
    path = save_checkpoint(tmp_path / "earlier.safetensors", model, binning=tiny_binning(),
                           class_names=CLASS_NAMES,
                           training={"steps": 40, "dataset": "quadrants", "seeds": "0-3"})
    return path, model


def test_the_new_model_gets_the_checkpoint_weights_and_records_where_they_came_from(saved):
    path, earlier = saved
    fresh = build_model(replace(tiny_config(), dropout=0.3, T=12))  # training-only fields
    assert not torch.equal(fresh.fc_out.weight, earlier.fc_out.weight)
    origin = init_from_checkpoint(fresh, path, tiny_binning(), CLASS_NAMES)
    for name, tensor in earlier.state_dict().items():
        assert torch.equal(fresh.state_dict()[name], tensor), name
    assert origin["steps"] == 40 and origin["data"] == "quadrants"
    assert len(origin["sha256"]) == 64 and origin["path"] == str(path)


def test_a_chain_of_runs_records_every_stage_back_to_the_first(saved, tmp_path):
    path, earlier = saved
    first_origin = init_from_checkpoint(tiny_model(), path, tiny_binning(), CLASS_NAMES)
    assert first_origin["init_from"] is None  # the saved run started from scratch
    second = save_checkpoint(tmp_path / "second.safetensors", earlier, binning=tiny_binning(),
                             class_names=CLASS_NAMES,
                             training={"steps": 7, "init_from": first_origin})
    origin = init_from_checkpoint(tiny_model(), second, tiny_binning(), CLASS_NAMES)
    assert origin["steps"] == 7 and origin["path"] == str(second)
    assert origin["init_from"]["steps"] == 40 and origin["init_from"]["path"] == str(path)


def test_another_network_binning_or_class_list_is_refused_by_name(saved):
    path, _ = saved
    wider = build_model(replace(tiny_config(), channels=16))
    with pytest.raises(CheckpointMismatchError, match="channels is 8 there but 16 here"):
        init_from_checkpoint(wider, path, tiny_binning(), CLASS_NAMES)
    no_attention = build_model(replace(tiny_config(), attention="none"))
    with pytest.raises(CheckpointMismatchError, match="attention is 'causal' there"):
        init_from_checkpoint(no_attention, path, tiny_binning(), CLASS_NAMES)
    slower = replace(tiny_binning(), dt_us=20_000)
    with pytest.raises(CheckpointMismatchError, match="bins of 10000 µs there but 20000"):
        init_from_checkpoint(tiny_model(), path, slower, CLASS_NAMES)
    with pytest.raises(CheckpointMismatchError, match="classes"):
        init_from_checkpoint(tiny_model(), path, tiny_binning(), CLASS_NAMES[::-1])


def test_window_mode_weights_depend_on_T_so_T_must_match(tmp_path):
    window = replace(tiny_config(), attention="window")
    path = save_checkpoint(tmp_path / "w.safetensors", build_model(window),
                           binning=tiny_binning(), class_names=CLASS_NAMES)
    with pytest.raises(CheckpointMismatchError, match="T is 6 there but 8 here"):
        init_from_checkpoint(build_model(replace(window, T=8)), path, tiny_binning(),
                             CLASS_NAMES)
