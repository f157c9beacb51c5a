"""Fine-tuning a trained model on taught sessions, in minutes on a laptop CPU.

The recipe, set by the measurements in docs/benchmarks.md (``scripts/teach_acceptance.sh``):

* The convolutional trunk is kept as it is (eval mode, BatchNorm statistics included) up to
  block ``first_trained_block``; everything after it — by default only the two fully
  connected layers of the head — is trained. The trunk holds almost all of the compute, so
  each take is passed through it **once** (streamed with carried state, as live) and its
  outputs are cached; training windows then run only the trained part. A pass per window
  through the whole network would cost ~50× more.
* Classes the base model knows keep their readout rows; new names get new ones. The trunk
  and the hidden layer start as the base's.
* One take per class (``holdout_per_class``) is held out; each is scored by streaming the
  trained part over it and the live predictor, as ``live-snn eval`` scores. The best
  validation is kept.

Progress (stage, done, total, ETA) goes to ``on_progress``; ``cancel`` stops between steps.

This module checks the sessions, reads the takes and writes the checkpoint; the parts:
:mod:`~live_snn.teach.finetune_config` (config, progress, result, errors),
:mod:`~live_snn.teach.trunk` (the network split at a block) and :mod:`~live_snn.teach.tuner`
(the training loop).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from live_snn.errors import CheckpointMismatchError
from live_snn.model import LoadedCheckpoint, load_checkpoint, save_checkpoint
from live_snn.outputs import check_outputs, named
from live_snn.sinks.teach_folder import (
    LABELS_FILE,
    META_FILE,
    read_teach_folder,
    union_class_names,
)
from live_snn.teach.finetune_config import (
    FineTuneConfig,
    FineTuneError,
    FineTuneResult,
    ProgressCallback,
    ProgressReporter,
)
from live_snn.teach.trunk import Trunk, model_for, trained_parts
from live_snn.teach.tuner import Tuner
from live_snn.train.calibrate import calibrated_readout
from live_snn.train.loaders.teach import TakeClip, take_clips
from live_snn.train.report import default_streaming_config

RECIPE = FineTuneConfig()  # the measured defaults (frozen: one instance serves every call)


def load_base(path: str | Path | None) -> LoadedCheckpoint:
    """The base model (None or "default": the bundled one), refused unless it has the
    bundled model's binning, which the recipe's window lengths and timings are set for."""
    from live_snn.engine.session import default_model_path

    bundled_path = default_model_path()
    use_bundled = path is None or str(path) == "default"
    base = load_checkpoint(bundled_path if use_bundled else path)
    bundled = base if use_bundled else load_checkpoint(bundled_path)
    problems = []
    if base.binning.dt_us != bundled.binning.dt_us:
        problems.append(f"bins of {base.binning.dt_us / 1000:g} ms, not "
                        f"{bundled.binning.dt_us / 1000:g} ms")
    if base.binning.model != bundled.binning.model:
        problems.append(f"a {base.binning.model} input, not {bundled.binning.model}")
    if not base.model.streams_by_step:
        problems.append("window-mode attention (it cannot stream one bin at a time)")
    if problems:
        raise CheckpointMismatchError(
            f"cannot teach from {path}: it has {' and '.join(problems)}; teach train starts "
            "from the bundled model or a checkpoint with its binning")
    return base


def fine_tune(folders: Sequence[str | Path], out: str | Path, *,
              base: str | Path | None = None, config: FineTuneConfig = RECIPE,
              on_progress: ProgressCallback | None = None,
              cancel: threading.Event | None = None) -> FineTuneResult:
    started = time.perf_counter()
    report = ProgressReporter(on_progress, started)
    report("reading", 0, 1)
    paths = [Path(f).expanduser() for f in folders]
    if not paths:
        raise FineTuneError("give at least one taught session folder")
    checked = [read_teach_folder(p) for p in paths]   # one clear line before any decoding
    class_names = union_class_names(checked)
    _check_takes(checked, class_names)
    _check_out(out, base, checked)
    loaded = load_base(base)
    torch.manual_seed(config.seed)
    model = model_for(loaded, class_names)
    clips = take_clips(paths, loaded.binning, class_names,
                       before_us=int(config.before_s * 1e6), after_us=int(config.after_s * 1e6))
    train, val = split_takes(clips, len(class_names), config)
    split_at = model.config.num_blocks if config.first_trained_block is None \
        else config.first_trained_block
    if not 0 <= split_at <= model.config.num_blocks:
        raise FineTuneError(f"first_trained_block must be 0..{model.config.num_blocks}")
    trunk = Trunk(model, split_at)
    report.begin_trunk(sum(len(c.session) for c in clips), trunk.estimate_step_s(config),
                       config.steps)
    features = trunk.features([c.session for c in clips], config.feature_batch,
                              lambda n: report.trunk_done(n), cancel)
    by_clip = dict(zip(map(id, clips), features, strict=True))
    streaming = default_streaming_config(loaded.readout, loaded.binning.dt_us)
    tuner = Tuner(model, trunk, config, streaming,
                   [(c.session, by_clip[id(c)]) for c in train],
                   [(c.session, by_clip[id(c)]) for c in val])
    history = tuner.fit(lambda step, acc: report.training(step, config.steps, acc), cancel)
    seconds = time.perf_counter() - started
    sensors = {c.sensor for c in clips}
    binning = loaded.binning.for_sensor(sensors.pop()) if len(sensors) == 1 else loaded.binning
    best = tuner.best
    training = {
        "dataset": "teach", "folders": [str(p) for p in paths],
        "takes_per_class": {n: sum(c.class_index == i for c in clips)
                            for i, n in enumerate(class_names)},
        "train_takes": len(train), "val_takes": len(val),
        "val_takes_list": [f"{c.folder.name}/take{c.take + 1}" for c in val],
        "fine_tune": {**asdict(config), "loss": asdict(config.loss),
                      "trained": trained_parts(model, split_at)},
        "steps": config.steps, "seconds": round(seconds, 1), "threads": torch.get_num_threads(),
        "init_from": {"path": str(loaded.path), "sha256": loaded.sha256,
                      "class_names": list(loaded.class_names),
                      "steps": loaded.training.get("steps"), "data": loaded.training.get("dataset"),
                      "init_from": loaded.training.get("init_from")},
    }
    metrics = {"val_streaming_accuracy": best["accuracy"], "val_step_accuracy":
               best["step_accuracy"], "step": best["step"], "history": history}
    # The base's calibration (its confidence scale, its "uncertain" threshold) was fitted to
    # the base's head, not this one: both are fitted again on the held-out takes, whose
    # clips hold the rest around each take (never uncertain when no take is held out).
    readout = {k: v for k, v in loaded.readout.items()
               if k not in ("calibration", "uncertain_below", "uncertain_calibration")}
    if tuner.val:
        readout = calibrated_readout(readout, [s for s, _ in tuner.val], tuner.val_scores(),
                                     streaming, {"dataset": "teach",
                                                 "takes": training["val_takes_list"]})
    out = save_checkpoint(out, model, binning=binning, class_names=class_names,
                          training=training, metrics=metrics, readout=readout)
    report("done", 1, 1, best["accuracy"])
    return FineTuneResult(out, class_names, best["accuracy"], len(val), len(train), seconds,
                          loaded.sha256, history)


# ---- data ------------------------------------------------------------------------------------
def _check_out(out: str | Path, base: str | Path | None, folders) -> None:
    """Before any work: the checkpoint goes to a new or checkpoint file in an existing,
    writable folder, never over the base model or a part of a taught session."""
    from live_snn.engine.session import default_model_path

    base_path = default_model_path() if base is None or str(base) == "default" else base
    parts = [named(f"{f.path.name}/{p.name}", p) for f in folders for p in
             (f.recording, f.path / LABELS_FILE, f.path / META_FILE)]
    check_outputs([named("the fine-tuned model", out)],
                  inputs=[named("the base model", base_path), *parts])


def _check_takes(folders, class_names: tuple[str, ...]) -> None:
    counts = dict.fromkeys(class_names, 0)
    for folder in folders:
        for name, n in folder.takes_per_class().items():
            counts[name] += n
    empty = [n for n, k in counts.items() if k == 0]
    if empty:
        raise FineTuneError(
            f"class{'es' if len(empty) > 1 else ''} {', '.join(map(repr, empty))} "
            f"{'have' if len(empty) > 1 else 'has'} no takes in "
            f"{', '.join(str(f.path) for f in folders)}: record some, or leave "
            f"{'them' if len(empty) > 1 else 'it'} out of the session")


def split_takes(clips: list[TakeClip], n_classes: int, config: FineTuneConfig
           ) -> tuple[list[TakeClip], list[TakeClip]]:
    """Hold out ``holdout_per_class`` takes of every class that has more than that (drawn
    with the seed), so every class is both trained on and validated."""
    rng = np.random.default_rng(config.seed)
    val: set[int] = set()
    for label in range(n_classes):
        own = [i for i, c in enumerate(clips) if c.class_index == label]
        if len(own) > config.holdout_per_class:
            val.update(int(i) for i in rng.choice(own, config.holdout_per_class, replace=False))
    return ([c for i, c in enumerate(clips) if i not in val],
            [c for i, c in enumerate(clips) if i in val])
