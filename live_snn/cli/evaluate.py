"""``live-snn eval``: clip accuracy, streaming accuracy, confusion and onset latency of a
checkpoint, printed, written as JSON (``--json``) and drawn as a PNG (``--plot``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from live_snn.errors import LiveSnnError
from live_snn.outputs import atomic_output, check_outputs, named, write_text_atomic
from live_snn.precision import CONV_DTYPES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval", help="evaluate a checkpoint: clip and streaming accuracy",
        description="Runs the checkpoint on whole labelled trials (clip accuracy) and streams "
                    "every recording bin by bin through the model and the live predictor "
                    "(streaming accuracy per labelled segment after the grace period, onset "
                    "latency). Unlabelled recordings get what the model says about them.")
    p.add_argument("--model", required=True, type=Path, help="checkpoint (.safetensors)")
    p.add_argument("--data", required=True,
                   help="nmnist:PATH | dvsgesture:PATH | sim:seeds=A-B[,duration=S] | "
                        "files:A.aedat4[,B.aedat4] | teach:DIR[,DIR] (taught sessions)")
    p.add_argument("--split", default="test", choices=["train", "val", "test"],
                   help="split of N-MNIST / DVS128 Gesture (default: test; val: the samples "
                        "that the data spec's holdout=N keeps out of train)")
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--plot", type=Path, help="write the confusion + latency figure (PNG)")
    p.add_argument("--grace-ms", type=float, help="default: the checkpoint's")
    p.add_argument("--ema-tau", type=float, help="predictor EMA in steps (default: checkpoint)")
    p.add_argument("--onset-steps", type=int, help="steps to count as recognised")
    p.add_argument("--uncertain-below", type=float, metavar="P",
                   help="confidence under P is shown as uncertain; also scores what is shown "
                        "(default: the model's own threshold; 0: leave it out)")
    p.add_argument("--exact-steps", action="store_true",
                   help="call model.step() once per bin (slower; same scores as the default "
                        "chunked run with carried state)")
    p.add_argument("--streaming-only", action="store_true",
                   help="skip the clip accuracy (a second pass over every labelled segment)")
    p.add_argument("--conv-dtype", choices=CONV_DTYPES, default="float32",
                   help="the convolutions' arithmetic, as `run --conv-dtype` (default float32)")
    p.add_argument("--device", default=None, help="cpu | cuda (default: cuda if available)")
    p.add_argument("--threads", type=int)
    p.add_argument("--cache", type=Path, help="cache binned sessions here")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--seed", type=int, default=0, help="order of N-MNIST samples in streams")
    p.add_argument("--calibrate-out", type=Path, metavar="CKPT",
                   help="fit the readout's logit_scale (temperature scaling: the NLL of the "
                        "true labels under the live predictor's smoothed probabilities) and "
                        "then its uncertain threshold (rests shown uncertain, gestures not; "
                        "live_snn/train/uncertainty.py) on --data, and write the checkpoint "
                        "with both here; use held-out validation data, not the test set")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from live_snn.model import load_checkpoint
    from live_snn.train.data_spec import parse_data_spec
    from live_snn.train.loaders import load_sessions
    from live_snn.train.plot import write_report_png
    from live_snn.train.report import default_streaming_config, evaluate_sessions

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.calibrate_out and args.conv_dtype != "float32":
        raise LiveSnnError("--calibrate-out calibrates the checkpoint's float32 network, which "
                           "is what it saves: leave out --conv-dtype")
    spec = parse_data_spec(args.data)
    # Before hours of evaluation, not after: no output over the model, the data or another.
    check_outputs(
        [named("--json", args.json), named("--plot", args.plot),
         named("--calibrate-out", args.calibrate_out)],
        inputs=[named("the model", args.model),
                *(named(f"the recording {p.name}", p) for p in spec.paths)],
    )
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    from live_snn.engine.runner import check_conv_dtype, inference_model

    check_conv_dtype(args.conv_dtype, torch.device(device))  # before hours of loading data
    ckpt = load_checkpoint(args.model, device=device)
    sessions = load_sessions(spec, ckpt.binning, split=args.split, cache_dir=args.cache,
                             workers=args.workers, seed=args.seed, class_names=ckpt.class_names)
    streaming = default_streaming_config(
        ckpt.readout, ckpt.binning.dt_us, grace_ms=args.grace_ms, ema_tau=args.ema_tau,
        onset_steps=args.onset_steps, uncertain_below=args.uncertain_below,
        chunk=None if args.exact_steps else 50)
    # float32: the network as trained; bfloat16: the inference copy the engines would step.
    model = ckpt.model if args.conv_dtype == "float32" else inference_model(
        ckpt, torch.device(device), args.conv_dtype)
    report = evaluate_sessions(model, sessions, ckpt.class_names, streaming, device=device,
                               clip=not args.streaming_only)
    report = {"model": str(args.model), "sha256": ckpt.sha256, "conv_dtype": args.conv_dtype,
              "model_config": ckpt.config.to_dict(), "binning": ckpt.binning.as_dict(),
              "data": spec.describe(), "split": args.split, **report}
    _print_summary(report)
    if args.calibrate_out:
        _calibrate(args.calibrate_out, ckpt, sessions, streaming, device, spec.describe())
    if args.json:
        write_text_atomic(args.json, json.dumps(report, indent=1), "evaluation report")
        print(f"wrote {args.json}")
    if args.plot:
        if report["confusion"] is None:
            print("no labelled segments: no plot written")
        else:
            import numpy as np

            title = f"{args.model.name}: streaming {report['streaming_accuracy']:.3f}" + (
                "" if report["clip_accuracy"] is None else f", clip {report['clip_accuracy']:.3f}")
            with atomic_output(args.plot, "plot") as tmp:
                write_report_png(tmp, np.array(report["confusion"]), ckpt.class_names,
                                 report["onset_latencies_ms"], title)
            print(f"wrote {args.plot}")
    return 0


def _calibrate(out: Path, ckpt, sessions, streaming, device: str, data: dict) -> None:
    from live_snn.model import save_checkpoint
    from live_snn.train.calibrate import calibrated_readout, calibration_lines
    from live_snn.train.evaluate import stream_scores

    scores = stream_scores(ckpt.model, sessions, device=device,
                           batch_sessions=streaming.batch_sessions, chunk=streaming.chunk)
    readout = calibrated_readout(ckpt.readout, sessions, scores, streaming, data)
    save_checkpoint(out, ckpt.model, binning=ckpt.binning, class_names=ckpt.class_names,
                    training=ckpt.training, metrics=ckpt.metrics, readout=readout)
    for line in calibration_lines(readout):
        print(line)
    print(f"wrote {out}")


def _print_summary(report: dict) -> None:
    if report["confusion"] is not None:
        lat = report["onset_latency_ms"]
        median = "n/a" if lat["median"] is None else f"{lat['median']:.0f} ms"
        p90 = "n/a" if lat["p90"] is None else f"{lat['p90']:.0f} ms"
        print(f"{report['segments']} labelled segments in {report['sessions']} sessions")
        if report["clip_accuracy"] is not None:
            print(f"clip accuracy      {report['clip_accuracy']:.4f}")
        print(f"streaming accuracy {report['streaming_accuracy']:.4f} (per step "
              f"{report['streaming_step_accuracy']:.4f})")
        print(f"onset latency      median {median}, p90 {p90} "
              f"({lat['detected']}/{lat['total']} segments recognised)")
        shown = report.get("uncertain")
        if shown is not None:
            lat = shown["shown_onset_latency_ms"]
            median = "n/a" if lat["median"] is None else f"{lat['median']:.0f} ms"
            rests = "n/a" if shown["rest_uncertain"] is None else f"{shown['rest_uncertain']:.1%}"
            print(f"uncertain below {shown['uncertain_below']:g}: rests {rests}, "
                  f"gestures {shown['gesture_uncertain']:.1%}; as shown: accuracy "
                  f"{shown['shown_accuracy']:.4f}, onset median {median} "
                  f"({lat['detected']}/{lat['total']})")
    for rec in report["recordings"]:
        if rec["labelled_segments"] == 0:
            print(f"{rec['name']}: {rec['predicted']} (mean confidence "
                  f"{rec['mean_confidence']:.2f}; final {rec['final_label']} "
                  f"{rec['final_confidence']:.2f})")
