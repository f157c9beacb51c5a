from live_snn.model import load_checkpoint, save_checkpoint
from live_snn.model.summary import LINEAGE_DEPTH, checkpoint_summary, lineage, summary_lines


def described(make_checkpoint, tmp_path, **metadata):
    base = load_checkpoint(make_checkpoint(tmp_path / "base.safetensors"))
    path = save_checkpoint(tmp_path / "m.safetensors", base.model, binning=base.binning,
                           class_names=base.class_names, **metadata)
    return checkpoint_summary(load_checkpoint(path))


def test_summary_says_what_the_network_reads_and_how_it_answers(make_checkpoint, tmp_path):
    summary = described(make_checkpoint, tmp_path, readout={
        "logit_scale": 7.5, "uncertain_below": 0.4,
        "calibration": {"data": {"dataset": "sim", "seeds": "5-9"}},
        "predictor": {"smoothing": "ema", "ema_tau_steps": 2.0, "onset_steps": 4},
        "uncertain_calibration": {"data": {"dataset": "sim", "seeds": "5-9"},
                                  "smoothing": "ema", "ema_tau_steps": 2.0}})
    assert summary["network"]["input_size"] == [32, 32] and summary["network"]["channels"] == 16
    assert summary["network"]["streams_by_step"] is True and summary["network"]["parameters"] > 0
    assert len(summary["class_names"]) == 11 and summary["binning"]["dt_us"] == 10_000
    assert summary["readout"]["uncertain_below"] == 0.4
    rows = dict(summary_lines(summary))
    assert rows["network"].startswith("lite: 32x32 input, 3 blocks of 16 channels, causal")
    assert rows["binning"] == "10 ms bins, sensor 128x128 -> model 32x32"
    assert rows["confidence"] == "softmax(7.5 x scores), calibrated on sim seeds 5-9"
    assert rows["smoothing"] == "EMA τ=2 steps, a new label after 4 steady steps"
    assert rows["uncertain"] == "below 0.4, fitted on sim seeds 5-9 under EMA τ=2 steps"


def test_a_model_without_a_threshold_is_never_uncertain(make_checkpoint, tmp_path):
    rows = dict(summary_lines(described(make_checkpoint, tmp_path)))
    assert rows["uncertain"] == "never (no threshold of its own)"
    assert rows["smoothing"] == "EMA τ=5 steps, a new label after 3 steady steps"  # defaults
    assert "trained" not in rows and "validation" not in rows  # nothing recorded, nothing said


def test_training_lineage_and_validation_are_listed_newest_first(make_checkpoint, tmp_path):
    training = {"dataset": "sim", "seeds": "0-9", "steps": 300,
                "validation": {"dataset": "sim", "ema_tau_steps": 5.0},
                "init_from": {"path": "b.safetensors", "sha256": "b" * 64, "steps": 200,
                              "data": "sim", "seeds": "0-4",
                              "init_from": {"path": "a.safetensors", "sha256": "a" * 64,
                                            "steps": 100, "data": "nmnist"}}}
    metrics = {"val_streaming_accuracy": 0.975, "val_onset_latency_ms": {"median": 180.0},
               "step": 250}
    lines = summary_lines(described(make_checkpoint, tmp_path, training=training, metrics=metrics))
    texts = [text for _, text in lines]
    assert ("trained", "300 steps on sim seeds 0-9") in lines
    start = texts.index("b.safetensors (bbbbbbbbbbbb), 200 steps on sim seeds 0-4")
    assert lines[start][0] == "from"
    assert lines[start + 1] == ("", "a.safetensors (aaaaaaaaaaaa), 100 steps on nmnist")
    assert ("validation", "97.5% streaming, onset median 180 ms under EMA τ=5 steps "
                          "(kept step 250)") in lines


def test_a_lineage_nested_without_end_is_cut():
    record: dict = {}
    deepest = record
    for k in range(LINEAGE_DEPTH + 10):
        deepest["init_from"] = {"path": f"{k}.safetensors"}
        deepest = deepest["init_from"]
    assert len(lineage(record)) == LINEAGE_DEPTH


def test_free_form_records_of_an_unexpected_type_are_left_out(make_checkpoint, tmp_path):
    summary = described(make_checkpoint, tmp_path,
                        training={"dataset": 3, "steps": "many", "init_from": {"path": None}},
                        metrics={"val_streaming_accuracy": "high", "val_onset_latency_ms": 0.2},
                        readout={"logit_scale": 5.0, "calibration": "yes", "uncertain_below": 0.3,
                                 "uncertain_calibration": {"smoothing": "ema",
                                                           "ema_tau_steps": "five"}})
    rows = summary_lines(summary)
    assert dict(rows)["uncertain"] == "below 0.3"  # under what smoothing: unreadable
    assert summary["training"] == {} and summary["validation"] == {}
    assert ("from", "? (?), ? steps") in rows
    assert dict(rows)["confidence"] == "softmax(5 x scores)"
