"""``live-snn train``: train a model on N-MNIST, DVS128 Gesture or simulated gestures.

Single process by default; data parallel when started by torchrun, e.g.
``torchrun --nproc_per_node 4 -m live_snn train ...`` (one GPU per process, or gloo on CPU).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from live_snn.errors import LiveSnnError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train a model (DVS128 Gesture, N-MNIST, simulated gestures)",
        description="Train on windows at random offsets of whole recordings, with a burn-in "
                    "and a per-step loss; keeps best.safetensors and last.safetensors in --out "
                    "and resumes with --resume.")
    p.add_argument("--data", required=True,
                   help="nmnist:PATH | dvsgesture:PATH | sim:seeds=A-B[,duration=S]")
    p.add_argument("--val-data", help="validation data (default: the held-out part of --data "
                                      "if it has holdout=N, else its test split; required for "
                                      "sim, e.g. sim:seeds=10000-10005)")
    p.add_argument("--out", required=True, type=Path, help="run directory")
    p.add_argument("--preset", default="lite", choices=["lite", "paper", "nmnist"])
    p.add_argument("--attention", default="causal", choices=["causal", "window", "tim", "none"])
    p.add_argument("--encoder", default="plain", choices=["plain", "gac"])
    p.add_argument("--channels", type=int, help="channels of every conv block (default: the "
                                                 "preset's)")
    p.add_argument("--hidden", type=int, help="width of the hidden FC layer (default: the "
                                              "preset's)")
    p.add_argument("--dropout", type=float, help="dropout of the two FC layers (default: the "
                                                 "preset's, 0.5)")
    p.add_argument("--dt-ms", type=float, default=20.0, help="bin length (default 20 ms)")
    p.add_argument("--window", type=int, default=30, help="steps per training window")
    p.add_argument("--burn-in", type=int, default=10, help="leading steps without loss")
    p.add_argument("--grace-ms", type=float, default=100.0,
                   help="time after a segment starts that validation does not score (and, "
                        "unless --loss-grace-ms says otherwise, with no loss)")
    p.add_argument("--loss-grace-ms", type=float,
                   help="time after a segment starts with no loss (default: --grace-ms); "
                        "shorter asks the network to name a gesture sooner")
    p.add_argument("--batch-size", type=int, default=8, help="windows per step per process")
    length = p.add_mutually_exclusive_group(required=True)
    length.add_argument("--epochs", type=float, help="epochs (an epoch = as many loss steps "
                                                      "as the training data has bins)")
    length.add_argument("--steps", type=int, help="optimiser steps")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup-steps", type=int, default=20)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--loss", default="mse", choices=["mse", "ce"],
                   help="per-step loss: MSE to one-hot (TCJA paper; wakes a silent network) "
                        "or cross-entropy on logit_scale * scores")
    p.add_argument("--logit-scale", type=float, default=10.0,
                   help="live probabilities are softmax(logit_scale * scores)")
    p.add_argument("--rest-weight", type=float, default=0.1,
                   help="weight of the 'no gesture = even split' loss on unlabelled steps")
    p.add_argument("--max-shift", type=int, default=0, help="random translation, pixels")
    p.add_argument("--time-reverse", type=float, default=0.0, metavar="P",
                   help="play this fraction of training windows backwards (ON/OFF swapped, "
                        "clockwise and counter-clockwise classes swapped): teaches time order")
    p.add_argument("--onset-windows", type=float, default=0.0, metavar="F",
                   help="place this fraction of training windows on a gesture's start: more "
                        "loss on the first few hundred ms, for a sooner live answer")
    p.add_argument("--augment", metavar="KEY=VALUE,...",
                   help="transfer augmentations per training window: dropout=F (drop up to F "
                        "of the events), noise=HZ (add up to HZ noise events per pixel per "
                        "second), scale=F (zoom by up to +-F), rotate=DEG, stretch=F (play up "
                        "to +-F faster or slower); e.g. dropout=0.3,noise=2,scale=0.15")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=200, help="steps between validations")
    p.add_argument("--keep", default="accuracy", metavar="RULE",
                   help="which validation best.safetensors keeps: 'accuracy' (the highest "
                        "streaming accuracy) or 'fastest:ACC' (the lowest onset median among "
                        "validations with streaming accuracy >= ACC, e.g. fastest:0.97)")
    p.add_argument("--ema-tau", type=float, default=None,
                   help="predictor EMA the validation runs under, steps (default: the "
                        "--init-from model's own, else 5); the checkpoints record it as the "
                        "model's own smoothing")
    p.add_argument("--onset-steps", type=int, default=3,
                   help="steps a label must hold to count as recognised")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--init-from", type=Path, metavar="CKPT",
                   help="start from this checkpoint's weights (same network, binning and "
                        "classes) with a new optimiser and schedule")
    p.add_argument("--max-steps-this-run", type=int,
                   help="stop (resumably) after this many steps, for time-limited jobs")
    p.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda if available")
    p.add_argument("--no-amp", action="store_true", help="full precision on CUDA")
    p.add_argument("--threads", type=int, help="torch CPU threads per process")
    p.add_argument("--cache", type=Path, help="cache binned sessions here (safetensors)")
    p.add_argument("--workers", type=int, default=1, help="processes that simulate / decode")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from live_snn.model import build_model
    from live_snn.train.data_check import check_training_data
    from live_snn.train.distributed import init_distributed, shutdown
    from live_snn.train.trainer import Trainer

    # Bad data fails here, in one line, not after an hour of training.
    check_training_data(args.data, args.val_data)
    keep = _keep_rule(args)

    if args.threads:
        torch.set_num_threads(args.threads)
    spec, val_spec = _data_specs(args)
    model_config, binning = _model_and_binning(args, spec)
    ctx = init_distributed(args.device)
    try:
        train_sessions, val_sessions, val_split = _load_data(args, spec, val_spec, binning, ctx)
        grace = int(round(args.grace_ms * 1000 / binning.dt_us))
        loss_grace_ms = args.grace_ms if args.loss_grace_ms is None else args.loss_grace_ms
        window = _window_spec(args, int(round(loss_grace_ms * 1000 / binning.dt_us)))
        torch.manual_seed(args.seed)
        model = build_model(model_config)
        init_from = None
        if args.init_from is not None:  # on --resume too: the resume state then replaces them
            from live_snn.train.warm_start import init_from_checkpoint

            init_from = init_from_checkpoint(model, args.init_from, binning, spec.class_names)
        ema_tau = _validation_ema_tau(args, init_from)
        training = _training_record(args, spec, val_spec, train_sessions, val_sessions,
                                    val_split)
        training["validation"]["ema_tau_steps"] = ema_tau
        if init_from is not None:
            training["init_from"] = init_from
        trainer = Trainer(model, _train_config(args, window, train_sessions, keep), train_sessions,
                          val_sessions, _streaming_config(args, grace, ema_tau),
                          _checkpoint_info(args, binning, spec, training, ema_tau), args.out, ctx)
        if trainer.steps_per_epoch and ctx.is_main:
            print(f"{trainer.config.steps} steps = "
                  f"{trainer.config.steps / trainer.steps_per_epoch:.2f} epochs "
                  f"({trainer.steps_per_epoch} steps per epoch, world size {ctx.world_size})")
        result = trainer.fit(resume=args.resume, max_steps_this_run=args.max_steps_this_run)
        if ctx.is_main:
            print(json.dumps({"step": result.step, "last_validation": result.last_validation}))
    finally:
        shutdown(ctx)
    return 0


def _data_specs(args: argparse.Namespace):
    """The training data and the validation data (the training data's own held-out or test
    part unless --val-data is given; sim data needs it)."""
    from live_snn.train.data_spec import parse_data_spec

    spec = parse_data_spec(args.data)
    if args.val_data is None and spec.kind == "sim":
        raise LiveSnnError("sim data needs --val-data with other seeds, e.g. "
                           "sim:seeds=10000-10005")
    return spec, parse_data_spec(args.val_data) if args.val_data else spec


def _model_and_binning(args: argparse.Namespace, spec):
    """The network asked for, and the binning of the data onto its input."""
    from live_snn.binning import BinningConfig
    from live_snn.events import Resolution
    from live_snn.model import ModelConfig

    model_config = ModelConfig(preset=args.preset, attention=args.attention,
                               encoder=args.encoder, num_classes=len(spec.class_names),
                               T=args.window,
                               **{name: getattr(args, name)
                                  for name in ("dropout", "channels", "hidden")
                                  if getattr(args, name) is not None})
    dt_us = int(round(args.dt_ms * 1000))
    h, w = model_config.input_size
    return model_config, BinningConfig(dt_us=dt_us, sensor=spec.sensor, model=Resolution(w, h))


def _load_data(args: argparse.Namespace, spec, val_spec, binning, ctx):
    """Training and validation sessions, binned, and the name of the validation split."""
    from live_snn.train.loaders import load_sessions

    started = time.perf_counter()
    train_sessions = load_sessions(spec, binning, split="train", cache_dir=args.cache,
                                   workers=args.workers, seed=args.seed)
    val_split = "train" if args.val_data else ("val" if spec.holdout else "test")
    val_sessions = load_sessions(val_spec, binning, split=val_split,
                                 cache_dir=args.cache, workers=args.workers, seed=args.seed)
    if ctx.is_main:
        print(f"data: {len(train_sessions)} training sessions "
              f"({sum(len(s) for s in train_sessions)} bins), {len(val_sessions)} validation "
              f"sessions, loaded in {time.perf_counter() - started:.1f} s")
    return train_sessions, val_sessions, val_split


def _window_spec(args: argparse.Namespace, grace: int):
    from live_snn.train.augment import Augmentation
    from live_snn.train.windows import WindowSpec

    try:
        return WindowSpec(length=args.window, burn_in=args.burn_in, grace=grace,
                          max_shift=args.max_shift, time_reverse=args.time_reverse,
                          onset_windows=args.onset_windows,
                          augment=Augmentation.parse(args.augment))
    except ValueError as exc:
        raise LiveSnnError(f"training windows: {exc}") from None


def _validation_ema_tau(args: argparse.Namespace, init_from: dict | None) -> float:
    """--ema-tau, else the smoothing of the model the run starts from, else 5 steps."""
    if args.ema_tau is not None:
        return args.ema_tau
    own = (init_from or {}).get("predictor") or {}
    return float(own.get("ema_tau_steps", 5.0)) if own.get("smoothing", "ema") == "ema" else 5.0


def _streaming_config(args: argparse.Namespace, grace: int, ema_tau: float):
    """How validation scores: the live predictor over whole sessions."""
    from live_snn.engine.predictor import PredictorConfig
    from live_snn.train.evaluate import StreamingConfig

    predictor = PredictorConfig(ema_tau_steps=ema_tau, onset_steps=args.onset_steps,
                                logit_scale=args.logit_scale)
    return StreamingConfig(predictor=predictor, grace_bins=grace, stable_steps=args.onset_steps)


def _checkpoint_info(args: argparse.Namespace, binning, spec, training: dict, ema_tau: float):
    from live_snn.train.trainer import CheckpointInfo

    return CheckpointInfo(
        binning=binning, class_names=spec.class_names, training=training,
        readout={"predictor": {"smoothing": "ema", "ema_tau_steps": ema_tau,
                               "onset_steps": args.onset_steps},
                 "grace_ms": args.grace_ms})


def _training_record(args: argparse.Namespace, spec, val_spec, train_sessions, val_sessions,
                     val_split: str) -> dict:
    """What the checkpoints record of the data and the command that trained them."""
    return {
        **spec.describe(),
        "split": ("official train" + (f" less {spec.holdout} held out" if spec.holdout else "")
                  if spec.kind in ("nmnist", "dvsgesture") else None),
        "train_segments": sum(len(s.segments) for s in train_sessions),
        "validation": {**val_spec.describe(), "sessions": len(val_sessions),
                       "split": "given" if args.val_data else val_split},
        "sensor": str(spec.sensor),
        "command": " ".join(shlex.quote(a) for a in sys.argv),
    }


def _keep_rule(args: argparse.Namespace):
    from live_snn.train.trainer import KeepRule

    try:
        return KeepRule.parse(args.keep)
    except ValueError as exc:
        raise LiveSnnError(f"--keep {args.keep}: {exc}") from None


def _train_config(args: argparse.Namespace, window, train_sessions, keep):
    from live_snn.train.loss import LossConfig
    from live_snn.train.trainer import TrainConfig
    from live_snn.train.windows import WindowSampler

    steps = args.steps
    if steps is None:
        import os

        world = int(os.environ.get("WORLD_SIZE", "1"))
        per_epoch = WindowSampler(train_sessions, window, seed=args.seed).steps_per_epoch(
            args.batch_size, world)
        steps = max(1, int(round(args.epochs * per_epoch)))
    return TrainConfig(
        keep=keep, steps=steps, batch_size=args.batch_size, window=window,
        loss=LossConfig(kind=args.loss, logit_scale=args.logit_scale,
                        rest_weight=args.rest_weight),
        lr=args.lr, warmup_steps=args.warmup_steps, weight_decay=args.weight_decay,
        seed=args.seed, eval_every=args.eval_every, amp=not args.no_amp)
