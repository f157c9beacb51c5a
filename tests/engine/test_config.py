from __future__ import annotations

import pytest

from live_snn.engine.config import EngineConfig
from live_snn.engine.predictor import PredictorConfig

FITTED_EMA5 = {"smoothing": "ema", "ema_tau_steps": 5.0, "mean_window": 10}
OWN = PredictorConfig(ema_tau_steps=5.0, uncertain_below=0.47, logit_scale=11.0)


def test_the_predictor_runs_as_the_model_does_unless_told_otherwise():
    own = PredictorConfig(smoothing="ema", ema_tau_steps=2.0, onset_steps=4,
                          uncertain_below=0.5, logit_scale=8.0)
    assert EngineConfig().predictor_config(own) == own
    asked = EngineConfig(ema_tau_steps=7.0, uncertain_below=0.0).predictor_config(own)
    assert asked == PredictorConfig(smoothing="ema", ema_tau_steps=7.0, onset_steps=4,
                                    uncertain_below=0.0, logit_scale=8.0)


def test_the_models_own_settings_come_from_its_readout():
    readout = {"logit_scale": 11.4, "uncertain_below": 0.47,
               "predictor": {"smoothing": "mean", "ema_tau_steps": 2, "mean_window": 7.0,
                             "onset_steps": 4}}
    own = PredictorConfig.from_readout(readout)
    assert own == PredictorConfig(smoothing="mean", ema_tau_steps=2.0, mean_window=7,
                                  onset_steps=4, uncertain_below=0.47, logit_scale=11.4)
    assert own.smoothing_words() == "mean of 7 steps"  # a whole number, as the user wrote it
    assert PredictorConfig.from_readout({"logit_scale": 10.0}) == PredictorConfig(logit_scale=10.0)


def test_settings_asked_for_are_checked_when_the_config_is_made():
    with pytest.raises(ValueError, match="ema_tau_steps"):
        EngineConfig(ema_tau_steps=0.5)
    with pytest.raises(ValueError, match="uncertain_below"):
        EngineConfig(uncertain_below=1.5)


def test_no_note_when_the_threshold_runs_under_the_smoothing_it_was_fitted_under():
    assert EngineConfig().uncertain_note(OWN, FITTED_EMA5) == ""
    # under EMA the mean's window does not matter, and the other way round
    assert EngineConfig(mean_window=20).uncertain_note(OWN, FITTED_EMA5) == ""
    fitted_mean = {"smoothing": "mean", "ema_tau_steps": 5.0, "mean_window": 10}
    assert EngineConfig(smoothing="mean", ema_tau_steps=9.0).uncertain_note(OWN, fitted_mean) == ""


@pytest.mark.parametrize("config, running", [
    (EngineConfig(ema_tau_steps=10.0), "EMA τ=10 steps"),
    (EngineConfig(smoothing="mean"), "mean of 10 steps"),
])
def test_the_note_names_both_smoothings_and_the_way_out(config, running):
    note = config.uncertain_note(OWN, FITTED_EMA5)
    assert "0.47" in note and "EMA τ=5 steps" in note and running in note
    assert "--uncertain-below" in note and "\n" not in note


@pytest.mark.parametrize("config, own, fitted", [
    (EngineConfig(ema_tau_steps=10.0, uncertain_below=0.3), OWN, FITTED_EMA5),  # user's own
    (EngineConfig(ema_tau_steps=10.0), PredictorConfig(), FITTED_EMA5),         # none to apply
    (EngineConfig(ema_tau_steps=10.0), OWN, {}),                                 # not recorded
    (EngineConfig(ema_tau_steps=10.0), OWN, {"smoothing": "median"}),            # unreadable
    (EngineConfig(ema_tau_steps=10.0), OWN, {"ema_tau_steps": "five"}),          # unreadable
])
def test_no_note_without_a_fitted_threshold_to_compare(config, own, fitted):
    assert config.uncertain_note(own, fitted) == ""
