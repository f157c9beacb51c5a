"""What a checkpoint is, in a few lines (``live-snn info CKPT.safetensors``): the network, its
classes and binning, how its confidence reads, what it was trained on and from what, and how
it scored on its validation data. Everything comes from the checkpoint's own metadata; the
records of training and metrics are free-form, so a field of an unexpected type is left out
rather than trusted."""

from __future__ import annotations

from typing import Any

from live_snn.model.checkpoint import FORMAT_TAG, LoadedCheckpoint
from live_snn.model.network import count_parameters

LINEAGE_DEPTH = 32  # init_from records nest; a deeper chain than this is cut, not followed


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def lineage(training: dict[str, Any]) -> list[dict[str, Any]]:
    """The checkpoints this one was started from, newest first: path, sha256, steps, data."""
    chain = []
    origin = training.get("init_from")
    while isinstance(origin, dict) and len(chain) < LINEAGE_DEPTH:
        chain.append({"path": _text(origin.get("path")), "sha256": _text(origin.get("sha256")),
                      "steps": _number(origin.get("steps")), "data": _text(origin.get("data")),
                      "seeds": _text(origin.get("seeds"))})
        origin = origin.get("init_from")
    return chain


def predictor_settings(readout: dict[str, Any]) -> dict[str, Any]:
    """How the model's scores are smoothed and a label's onset found, as the engine runs it
    by default: the readout's settings (validated at load), else the defaults of
    ``live_snn.engine.predictor.PredictorConfig`` (a layer above this one, hence repeated)."""
    own = _mapping(readout.get("predictor"))

    def number(key: str, default: float) -> float:
        value = _number(own.get(key))
        return default if value is None else value

    settings = {"smoothing": "mean" if own.get("smoothing") == "mean" else "ema",
                "onset_steps": number("onset_steps", 3)}
    if settings["smoothing"] == "ema":
        settings["ema_tau_steps"] = number("ema_tau_steps", 5.0)
    else:
        settings["mean_window"] = number("mean_window", 10)
    return settings


def _fitted_under(record: dict[str, Any]) -> dict[str, Any] | None:
    """The smoothing an uncertain threshold was fitted under, when its record says (an
    unvalidated free-form record: anything unreadable is left out, never guessed)."""
    parameter = {"ema": "ema_tau_steps", "mean": "mean_window"}.get(record.get("smoothing"))
    if parameter is None or _number(record.get(parameter)) is None:
        return None
    return predictor_settings({"predictor": record})


def checkpoint_summary(ckpt: LoadedCheckpoint) -> dict[str, Any]:
    """A JSON-ready description of ``ckpt``."""
    config, training, metrics = ckpt.config, _mapping(ckpt.training), _mapping(ckpt.metrics)
    readout = ckpt.readout
    calibration = _mapping(readout.get("calibration"))
    uncertain = _mapping(readout.get("uncertain_calibration"))
    onset = _mapping(metrics.get("val_onset_latency_ms"))
    return {
        "file": None if ckpt.path is None else str(ckpt.path),
        "format": FORMAT_TAG,
        "sha256": ckpt.sha256,
        "network": {"preset": config.preset, "attention": config.attention,
                    "attention_blocks": list(config.attention_blocks),
                    "input_size": list(config.input_size), "channels": config.channels,
                    "blocks": config.num_blocks, "window_steps": config.T,
                    "streams_by_step": bool(config.streams_by_step),
                    "parameters": count_parameters(ckpt.model)},
        "class_names": list(ckpt.class_names),
        "binning": ckpt.binning.as_dict(),
        "readout": {"logit_scale": ckpt.logit_scale,
                    "logit_scale_calibrated_on": calibration.get("data"),
                    "uncertain_below": ckpt.uncertain_below,
                    "uncertain_fitted_on": uncertain.get("data"),
                    "uncertain_fitted_under": _fitted_under(uncertain),
                    "predictor": predictor_settings(readout)},
        "training": {key: value for key, value in (
            ("dataset", _text(training.get("dataset"))), ("seeds", _text(training.get("seeds"))),
            ("folders", [str(f) for f in training["folders"]]
             if isinstance(training.get("folders"), list) else None),
            ("simulator_code", _text(training.get("simulator_code"))),
            ("steps", _number(training.get("steps"))), ("command", _text(training.get("command"))),
        ) if value is not None},
        "lineage": lineage(training),
        "validation": {key: value for key, value in (
            ("streaming_accuracy", _number(metrics.get("val_streaming_accuracy"))),
            ("onset_median_ms", _number(onset.get("median"))),
            ("step", _number(metrics.get("step"))),
            ("ema_tau_steps", _number(_mapping(training.get("validation")).get("ema_tau_steps"))),
        ) if value is not None},
    }


def summary_lines(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """``summary`` as (label, text) rows for a terminal."""
    net, binning, readout = summary["network"], summary["binning"], summary["readout"]
    attention = net["attention"] + (f" in blocks {net['attention_blocks']}" if net["attention_blocks"] else "")
    classes = summary["class_names"]
    rows = [
        ("file", summary["file"] or "-"),
        ("format", f"{summary['format']}, sha256 {summary['sha256'][:12]}"),
        ("network", f"{net['preset']}: {net['input_size'][0]}x{net['input_size'][1]} input, "
                    f"{net['blocks']} blocks of {net['channels']} channels, {attention}, "
                    f"{net['parameters'] / 1e6:.2f} M parameters, "
                    + ("streams one step per bin" if net["streams_by_step"]
                       else f"window of T={net['window_steps']} steps")),
        ("classes", f"{len(classes)}: {', '.join(classes)}"),
        ("binning", f"{binning['dt_us'] / 1000:g} ms bins, sensor {binning['sensor'][0]}x"
                    f"{binning['sensor'][1]} -> model {binning['model'][0]}x{binning['model'][1]}"),
        ("confidence", f"softmax({readout['logit_scale']:.3g} x scores)"
                       + ("" if readout["logit_scale_calibrated_on"] is None
                          else f", calibrated on {_data(readout['logit_scale_calibrated_on'])}")),
        ("smoothing", _smoothing(readout["predictor"])),
        ("uncertain", "never (no threshold of its own)" if readout["uncertain_below"] <= 0
                      else f"below {readout['uncertain_below']:g}"
                      + ("" if readout["uncertain_fitted_on"] is None
                         else f", fitted on {_data(readout['uncertain_fitted_on'])}")
                      + ("" if readout["uncertain_fitted_under"] is None
                         else f" under {_smoothing(readout['uncertain_fitted_under'], onset=False)}")),
    ]
    training = summary["training"]
    if training:
        data = training.get("dataset", "?")
        if "seeds" in training:
            data += f" seeds {training['seeds']}"
        if "simulator_code" in training:
            data += f" (simulator {training['simulator_code']})"
        if "folders" in training:
            data += f" {', '.join(training['folders'])}"
        rows.append(("trained", f"{_steps(training.get('steps'))} on {data}"))
    for k, origin in enumerate(summary["lineage"]):
        text = f"{origin['path'] or '?'} ({(origin['sha256'] or '?')[:12]}), {_steps(origin['steps'])}"
        if origin["data"]:
            text += f" on {origin['data']}" + (f" seeds {origin['seeds']}" if origin["seeds"] else "")
        rows.append(("from" if k == 0 else "", text))
    validation = summary["validation"]
    if "streaming_accuracy" in validation:
        text = f"{validation['streaming_accuracy']:.1%} streaming"
        if "onset_median_ms" in validation:
            text += f", onset median {validation['onset_median_ms']:g} ms"
        if "ema_tau_steps" in validation:
            text += f" under EMA τ={validation['ema_tau_steps']:g} steps"
        if "step" in validation:
            text += f" (kept step {validation['step']:g})"
        rows.append(("validation", text))
    return rows


def _smoothing(settings: dict[str, Any], *, onset: bool = True) -> str:
    how = (f"EMA τ={settings['ema_tau_steps']:g} steps" if settings["smoothing"] == "ema"
           else f"mean of {settings['mean_window']:g} steps")
    return how + (f", a new label after {settings['onset_steps']:g} steady steps" if onset else "")


def _steps(steps: float | None) -> str:
    return "? steps" if steps is None else f"{steps:g} steps"


def _data(described: Any) -> str:
    """A data spec's description (``DataSpec.describe()``) in a few words."""
    if not isinstance(described, dict):
        return str(described)
    words = [str(described.get("dataset", "?"))]
    for key in ("seeds", "path"):
        if described.get(key) is not None:
            words.append(f"{key} {described[key]}")
    if described.get("files"):
        words.append(f"{len(described['files'])} files")
    return " ".join(words)
