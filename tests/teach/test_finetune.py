"""Fine-tuning on taught sessions (tiny: a few steps on four one-second takes)."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from live_snn.engine.session import default_model_path
from live_snn.errors import CheckpointMismatchError
from live_snn.model import load_checkpoint
from live_snn.sinks.teach_folder import META_FILE, TeachFolderError
from live_snn.teach.finetune import fine_tune
from live_snn.teach.finetune_config import FineTuneConfig, FineTuneError
from live_snn.teach.job import FineTuneJob

TINY = FineTuneConfig(steps=4, eval_every=2, batch_size=4)


@pytest.fixture(scope="module")
def taught(taught_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("taught") / "my.safetensors"
    progress = []
    result = fine_tune([taught_folder], out, config=TINY, on_progress=progress.append)
    return result, progress


def test_writes_a_normal_checkpoint_with_the_new_classes_and_its_lineage(taught):
    result, _ = taught
    ckpt = load_checkpoint(result.path)
    base = load_checkpoint(default_model_path())
    assert ckpt.class_names == ("right hand wave", "swipe") == result.class_names
    assert ckpt.binning.dt_us == base.binning.dt_us and ckpt.binning.model == base.binning.model
    lineage = ckpt.training["init_from"]
    assert lineage["sha256"] == base.sha256 == result.base_sha256
    assert lineage["class_names"] == list(base.class_names)
    assert (result.train_takes, result.val_takes) == (2, 2)   # one take per class held out
    assert ckpt.metrics["val_streaming_accuracy"] == result.val_accuracy
    # the base's calibration belongs to the base's head: fitted again on the held-out takes
    for fitted in ("calibration", "uncertain_calibration"):
        assert ckpt.readout[fitted]["data"] == {"dataset": "teach",
                                                "takes": ckpt.training["val_takes_list"]}
    assert ckpt.readout["uncertain_calibration"]["rest_steps"] > 0
    assert ckpt.readout["calibration"]["previous_logit_scale"] == base.logit_scale
    # ... under the base's own smoothing, which the taught model keeps
    tau = base.readout["predictor"]["ema_tau_steps"]
    assert ckpt.readout["predictor"]["ema_tau_steps"] == tau
    assert ckpt.uncertain_fitted_under["ema_tau_steps"] == tau


def test_the_trunk_is_kept_and_the_head_is_trained(taught):
    result, _ = taught
    taught_state = load_checkpoint(result.path).model.state_dict()
    base_state = load_checkpoint(default_model_path()).model.state_dict()
    blocks = [k for k in base_state if k.startswith("blocks.")]
    assert blocks and all(torch.equal(taught_state[k], base_state[k]) for k in blocks)
    assert not torch.equal(taught_state["fc_hidden.weight"], base_state["fc_hidden.weight"])
    assert taught_state["fc_out.weight"].shape[0] == 2 * 10


def test_progress_runs_through_the_stages_with_an_eta(taught):
    _, progress = taught
    stages = [p.stage for p in progress]
    assert stages[0] == "reading" and stages[-1] == "done"
    assert "trunk" in stages and "training" in stages
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(p.eta_s is not None and p.eta_s > 0 for p in progress if p.stage == "trunk")


def test_a_class_with_no_takes_is_refused_and_nothing_is_written(taught_folder, tmp_path):
    folder = tmp_path / "f"
    shutil.copytree(taught_folder, folder)
    meta = json.loads((folder / META_FILE).read_text())
    meta["class_names"].append("clap")
    (folder / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(FineTuneError, match="class 'clap' has no takes") as caught:
        fine_tune([folder], tmp_path / "out.safetensors", config=TINY)
    assert "\n" not in str(caught.value) and not (tmp_path / "out.safetensors").exists()


@pytest.mark.parametrize("changes, words", [({"dt_us": 10_000}, "bins of 10 ms"),
                                            ({}, "32x32 input")])
def test_a_base_of_another_binning_is_refused(taught_folder, tmp_path, make_checkpoint,
                                              changes, words):
    base = make_checkpoint(tmp_path / "base.safetensors", **changes)
    with pytest.raises(CheckpointMismatchError, match=words):
        fine_tune([taught_folder], tmp_path / "out.safetensors", base=base, config=TINY)
    assert not (tmp_path / "out.safetensors").exists()


def test_a_folder_that_is_not_a_session_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(TeachFolderError, match="not a taught session folder"):
        fine_tune([tmp_path / "empty"], tmp_path / "out.safetensors", config=TINY)


def test_the_background_job_reports_and_can_be_cancelled(taught_folder, tmp_path):
    job = FineTuneJob([taught_folder], tmp_path / "out.safetensors",
                      config=FineTuneConfig(steps=10_000, eval_every=10_000)).start()
    job.cancel()
    assert job.wait(120) and job.done
    assert job.result is None and "cancelled" in str(job.error)


def test_the_output_is_checked_before_any_work(taught_folder, tmp_path, make_checkpoint):
    """Never over the base model or a part of the session, never into a missing folder."""
    from live_snn.outputs import OutputError

    base = make_checkpoint(tmp_path / "base.safetensors")
    before = base.read_bytes()
    with pytest.raises(OutputError, match="is the base model"):
        fine_tune([taught_folder], base, base=base, config=TINY)
    assert base.read_bytes() == before
    with pytest.raises(OutputError, match="refusing to write over an input"):
        fine_tune([taught_folder], taught_folder / META_FILE, config=TINY)
    with pytest.raises(OutputError, match="does not exist"):
        fine_tune([taught_folder], tmp_path / "nowhere" / "out.safetensors", config=TINY)
