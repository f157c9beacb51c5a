"""``live-snn teach``: teach the model your own gestures without the window.

``teach record SOURCE --classes ... --takes N --out DIR`` prompts on the terminal and
writes a taught session; ``teach train DIR [DIR ...] --out my.safetensors`` fine-tunes the
bundled model (or ``--base CKPT``) on it."""

from __future__ import annotations

import argparse
import sys
import time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("teach", help="record your own gestures and fine-tune a model on them",
                       description="Record prompted takes of your gestures (teach record), "
                                   "then fine-tune a model on them in minutes (teach train).")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    r = actions.add_parser("record", help="record prompted takes into a session folder",
                           description="Prompts each take on the terminal ('Get ready: swipe "
                                       "— 3, 2, 1, go') and writes DIR/teach.aedat4, "
                                       "DIR/teach_labels.csv and DIR/teach.json. Ctrl-C stops "
                                       "and keeps the takes so far.")
    r.add_argument("source", help="camera, camera:SERIAL, tcp://HOST:PORT, a socket, or sim:... "
                                  "(a simulated person who performs the prompts)")
    r.add_argument("--classes", required=True, nargs="+", metavar="NAME",
                   help="class names, comma-separated or one per argument (DVS128 names or "
                        "your own, e.g. 'swipe left, thumbs up')")
    r.add_argument("--takes", type=int, default=5, help="takes per class (default 5)")
    r.add_argument("--take-s", type=float, default=2.0, help="take length, s (default 2)")
    r.add_argument("--rest-s", type=float, default=1.0, help="rest after a take, s (default 1)")
    r.add_argument("--countdown-s", type=float, default=3.0,
                   help="'get ready' countdown before a take, s (default 3)")
    r.add_argument("--order", choices=["random", "fixed"], default="random",
                   help="prompt order: shuffled (default) or class after class, round by round")
    r.add_argument("--seed", type=int, default=0, help="seed of the random order")
    r.add_argument("--perform", action="append", default=[], metavar="NAME=GESTURE",
                   help="sim: only: the simulator gesture performed for a class that is not "
                        "a DVS128 name, e.g. --perform swipe=right-hand-wave (repeatable)")
    r.add_argument("--out", required=True, help="folder for the session (created; must not "
                                                "hold a session already)")
    r.set_defaults(func=run_record)

    t = actions.add_parser("train", help="fine-tune a model on taught sessions",
                           description="Fine-tunes the bundled model (or --base) on the takes "
                                       "of one or more session folders, one take per class "
                                       "held out for validation, and writes a checkpoint that "
                                       "live-snn gui/run/eval --model use as it is.")
    t.add_argument("folders", nargs="+", metavar="DIR", help="taught session folders")
    t.add_argument("--base", default="default",
                   help="checkpoint to start from (default: the bundled model)")
    t.add_argument("--out", required=True, help="checkpoint to write (.safetensors)")
    t.add_argument("--steps", type=int, help="training steps (default: the recipe's)")
    t.add_argument("--train-from-block", type=int, metavar="K",
                   help="train conv blocks K.. too (default: only the fully connected head)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--threads", type=int, help="torch CPU threads")
    t.set_defaults(func=run_train)


# ---- record ---------------------------------------------------------------------------------
def run_record(args: argparse.Namespace) -> int:
    from live_snn.errors import LiveSnnError
    from live_snn.sources.performer import Performer, open_teaching_source, parse_performs
    from live_snn.teach.plan import TeachPlan
    from live_snn.teach.recorder import TeachRecorder

    plan = TeachPlan(TeachPlan.parse_classes(args.classes), takes_per_class=args.takes,
                     take_s=args.take_s, rest_s=args.rest_s, countdown_s=args.countdown_s,
                     order=args.order, seed=args.seed)
    source = open_teaching_source(args.source, parse_performs(args.perform))
    with source:
        performer = source if isinstance(source, Performer) else None
        recorder = TeachRecorder(plan, args.out, resolution=source.resolution,
                                 source_description=source.description, performer=performer,
                                 live=source.is_live)
        print(f"teaching {len(plan.class_names)} classes x {plan.takes_per_class} takes from "
              f"{source.description} into {recorder.folder} (Ctrl-C stops, keeping the takes "
              "so far)", flush=True)
        shown = _Prompter()
        try:
            for batch in source:
                recorder.feed(batch)
                shown.show(recorder.status())
                if recorder.ended:
                    break
            else:
                recorder.source_lost("the source ended")
        except KeyboardInterrupt:
            recorder.stop()
        except LiveSnnError as exc:  # a camera unplugged, a network stream gone
            recorder.source_lost(str(exc))
        result = recorder.finish()
    shown.show(recorder.status())
    print(f"wrote {result.kept} takes ({result.events} events) to {result.folder}")
    for take in result.takes:
        if take.status not in ("kept", "redone", "discarded"):
            print(f"take {take.number} ({take.class_name}) discarded: {take.note}")
    missing = [n for n, k in result.kept_per_class.items() if k == 0]
    if missing:
        print(f"no takes of {', '.join(missing)}: record them before training")
    return 0 if result.kept else 1


class _Prompter:
    """Prints each new prompt line once (the countdown ticks, go, rest)."""

    def __init__(self) -> None:
        self.last = ""
        self.message = ""

    def show(self, status) -> None:
        if status.message and status.message != self.message:
            self.message = status.message
            print(f"  {status.message}", flush=True)
        line = status.prompt
        if status.phase == "take":
            line += f"   (take {status.takes_kept + 1} of {status.takes_planned})"
        if line != self.last:
            self.last = line
            print(line, flush=True)


# ---- train ----------------------------------------------------------------------------------
def run_train(args: argparse.Namespace) -> int:
    import dataclasses

    import torch
    from tqdm import tqdm

    from live_snn.teach.finetune import fine_tune
    from live_snn.teach.finetune_config import FineTuneConfig

    if args.threads:
        torch.set_num_threads(args.threads)
    config = FineTuneConfig(seed=args.seed)
    if args.steps is not None:
        config = dataclasses.replace(config, steps=args.steps)
    if args.train_from_block is not None:
        config = dataclasses.replace(config, first_trained_block=args.train_from_block)
    bars: list = []  # made at the first real progress: a refusal prints its one line alone

    def progress(p) -> None:
        if p.stage == "reading":
            return
        if not bars:
            bars.append(tqdm(total=1000, desc="teach", dynamic_ncols=True, file=sys.stderr,
                             bar_format="{desc} {percentage:3.0f}%|{bar}| {postfix}"))
        bar = bars[0]
        bar.n = int(1000 * p.fraction)
        eta = "" if p.eta_s is None else f", ETA {time.strftime('%M:%S', time.gmtime(p.eta_s))}"
        acc = "" if p.val_accuracy is None else f", val {p.val_accuracy:.3f}"
        bar.set_postfix_str(f"{p.stage} {p.done}/{p.total}{acc}{eta}", refresh=True)

    try:
        result = fine_tune(args.folders, args.out, base=args.base, config=config,
                           on_progress=progress)
    finally:
        for bar in bars:
            bar.close()
    acc = "n/a (no class has two takes)" if result.val_accuracy is None else \
        f"{result.val_accuracy:.3f}"
    print(f"wrote {result.path}: {len(result.class_names)} classes "
          f"({', '.join(result.class_names)}), trained on {result.train_takes} takes in "
          f"{result.seconds:.0f} s; validation streaming accuracy {acc} on {result.val_takes} "
          f"held-out takes; base model sha256 {result.base_sha256[:16]}")
    return 0
