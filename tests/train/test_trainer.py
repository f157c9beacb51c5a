import json

import numpy as np
import pytest
import torch

from live_snn.engine.predictor import PredictorConfig
from live_snn.errors import CheckpointError
from live_snn.model import load_checkpoint
from live_snn.train.distributed import DistContext
from live_snn.train.evaluate import StreamingConfig
from live_snn.train.loss import LossConfig
from live_snn.train.trainer import CheckpointInfo, KeepRule, TrainConfig, Trainer
from live_snn.train.windows import WindowSpec

from .synthetic import CLASS_NAMES, quadrant_sessions, tiny_binning, tiny_model

CPU = DistContext(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))


def _trainer(out_dir, steps, *, seed=0, eval_every=10, keep=None):
    # Constant learning rate: a fresh SNN stays silent for its first few dozen steps.
    config = TrainConfig(steps=steps, batch_size=8, window=WindowSpec(6, burn_in=2, grace=1),
                         loss=LossConfig(logit_scale=5.0, rest_weight=0.1), lr=1e-2,
                         min_lr_fraction=1.0, seed=seed, eval_every=eval_every,
                         keep=keep or KeepRule())
    streaming = StreamingConfig(PredictorConfig(ema_tau_steps=2.0, logit_scale=5.0),
                                grace_bins=1, stable_steps=2)
    info = CheckpointInfo(tiny_binning(), CLASS_NAMES, {"dataset": "quadrants", "seed": 0})
    return Trainer(tiny_model(seed=seed), config, quadrant_sessions(4, seed=1),
                   quadrant_sessions(2, seed=2), streaming, info, out_dir, CPU)


def _weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_training_lowers_the_loss_and_writes_loadable_checkpoints(tmp_path):
    trainer = _trainer(tmp_path, steps=60, eval_every=30)
    first = trainer.train_step()[0]
    trainer.step = 1
    result = trainer.fit()
    history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert [h["step"] for h in history] == [30, 60]
    assert history[-1]["train"]["loss"] < first
    assert result.last_validation["val_step_accuracy"] > 0.6  # chance is 1/3
    for name in ("best.safetensors", "last.safetensors"):
        ckpt = load_checkpoint(tmp_path / name)
        assert ckpt.class_names == CLASS_NAMES
        assert ckpt.binning.dt_us == 10_000
        assert ckpt.training["dataset"] == "quadrants" and ckpt.training["steps"] in (30, 60)
        assert ckpt.readout["logit_scale"] == 5.0
        assert "val_streaming_accuracy" in ckpt.metrics


def test_same_seed_same_model_and_resume_continues_exactly(tmp_path):
    straight = _trainer(tmp_path / "a", steps=6, eval_every=3)
    straight.fit()
    again = _trainer(tmp_path / "b", steps=6, eval_every=3)
    again.fit()
    stopped = _trainer(tmp_path / "c", steps=6, eval_every=3)
    stopped.fit(max_steps_this_run=3)
    assert stopped.step == 3
    resumed = _trainer(tmp_path / "c", steps=6, eval_every=3)
    resumed.fit(resume=True)
    assert resumed.step == 6
    reference = _weights(straight.module)
    for other in (again.module, resumed.module):
        for key, value in other.state_dict().items():
            assert torch.equal(value, reference[key]), key
    assert [h["step"] for h in resumed.history] == [3, 6]


def test_resume_refuses_a_different_batch_or_a_missing_run(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        _trainer(tmp_path, steps=2).fit(resume=True)
    _trainer(tmp_path, steps=2, eval_every=2).fit()
    other = _trainer(tmp_path, steps=4, seed=3)
    with pytest.raises(CheckpointError, match="seed"):
        other.fit(resume=True)


def test_a_run_saved_before_a_window_option_existed_resumes_with_its_default(tmp_path):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    _trainer(tmp_path, steps=4, eval_every=2).fit(max_steps_this_run=2)
    path = tmp_path / "resume.safetensors"
    with safe_open(str(path), framework="pt") as fh:
        meta = json.loads(fh.metadata()["live_snn_resume"])
    # As written before these options existed: they resume with their defaults.
    del meta["config"]["window"]["time_reverse"]
    del meta["config"]["window"]["onset_windows"]
    del meta["config"]["keep"]
    save_file(load_file(str(path)), str(path), metadata={"live_snn_resume": json.dumps(meta)})
    resumed = _trainer(tmp_path, steps=4, eval_every=2)
    resumed.fit(resume=True)
    assert resumed.step == 4


def _onsets(median_ms, n=5):
    return [median_ms] * n


def test_the_fastest_rule_keeps_the_quickest_validation_above_its_accuracy_floor():
    rule = KeepRule.parse("fastest:0.9")
    slow_sure = rule.metric(0.99, 0.8, _onsets(300.0))
    quick_sure = rule.metric(0.95, 0.7, _onsets(200.0))
    quicker_unsure = rule.metric(0.85, 0.9, _onsets(120.0))
    assert quick_sure > slow_sure > quicker_unsure
    # Ties in onset go to the more accurate; below the floor, accuracy alone decides.
    assert rule.metric(0.96, 0.7, _onsets(200.0)) > quick_sure
    assert rule.metric(0.88, 0.1, _onsets(900.0)) > quicker_unsure
    assert rule.metric(0.95, 0.7, [None] * 5) < slow_sure  # nothing recognised: no onset
    accuracy = KeepRule.parse("accuracy")
    assert accuracy.metric(0.99, 0.8, _onsets(300.0)) > accuracy.metric(0.95, 0.7, _onsets(200.0))


def test_the_fastest_rule_counts_unrecognised_gestures_as_late():
    rule = KeepRule.parse("fastest:0.9")
    steady = rule.metric(0.95, 0.7, _onsets(250.0))
    # Over the recognised ones alone both medians would be 100 ms. Counted as infinitely
    # late, two misses of five leave the median at 100 ms; three put it past every onset.
    assert rule.metric(0.95, 0.7, [100.0, 100.0, 100.0, None, None]) > steady
    assert rule.metric(0.95, 0.7, [100.0, 100.0, None, None, None]) < steady


@pytest.mark.parametrize("text, message", [("fastest", "needs an accuracy floor"),
                                           ("fastest:1.5", r"in \[0, 1\]"),
                                           ("accuracy:0.9", "takes no value"),
                                           ("latest", "must be 'accuracy' or 'fastest")])
def test_a_bad_keep_rule_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        KeepRule.parse(text)


def _scripted_validations(trainer, results):
    """Replace the trainer's validation by a script of (accuracy, onset median) pairs."""
    from live_snn.train.evaluate import StreamingResult
    from live_snn.train.metrics import latency_stats

    script = iter(results)

    def validate():
        accuracy, onset_ms = next(script)
        onsets = [onset_ms] * 3
        return StreamingResult(accuracy, accuracy, np.zeros((3, 3)), np.zeros(3),
                               latency_stats(onsets), onsets, [])

    trainer.validate = validate


@pytest.mark.parametrize("rule, kept_step", [("accuracy", 10), ("fastest:0.9", 20)])
def test_best_checkpoint_is_the_validation_the_rule_picks(tmp_path, rule, kept_step):
    trainer = _trainer(tmp_path, steps=30, eval_every=10, keep=KeepRule.parse(rule))
    # The most accurate, the fastest above 0.9, and a faster one below the floor.
    _scripted_validations(trainer, [(1.0, 300.0), (0.95, 160.0), (0.8, 100.0)])
    trainer.fit()
    assert load_checkpoint(tmp_path / "best.safetensors").metrics["step"] == kept_step


def test_a_resume_keeps_the_rule_it_started_with(tmp_path):
    _trainer(tmp_path, steps=20, eval_every=10, keep=KeepRule("fastest", 0.0)).fit(
        max_steps_this_run=10)
    # A resume must keep the same rule, or "best" would mean two things in one run.
    with pytest.raises(CheckpointError, match="keep"):
        _trainer(tmp_path, steps=20, eval_every=10).fit(resume=True)
