"""How the fine-tune's recipe was chosen: train the head on one taught session under several
settings and score each on fresh takes, the trunk pass done once for all of them.

    .venv/bin/python scripts/teach_sweep.py --train DIR --fresh DIR [DIR ...] \\
        --variants '[{}, {"steps": 900, "lr": 0.005}]'

Each variant is a set of :class:`live_snn.teach.finetune_config.FineTuneConfig` fields over the
recipe's defaults; ``seed`` also draws the held-out takes. Prints one JSON line per variant:
the training time, the held-out validation the fine-tune kept, and the streaming accuracy on
the fresh takes (the trained part streamed over each take's cached trunk features and scored
by the live predictor, as the fine-tune's validation scores). The teach_acceptance.sh figures
come from ``live-snn eval`` on the whole model instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    from live_snn.sinks.teach_folder import read_teach_folder, union_class_names
    from live_snn.teach import finetune as ft
    from live_snn.teach.trunk import Trunk, model_for
    from live_snn.teach.tuner import Tuner
    from live_snn.train.evaluate import score_streams
    from live_snn.train.loaders.teach import take_clips
    from live_snn.train.report import default_streaming_config

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, required=True, help="taught session to train on")
    parser.add_argument("--fresh", type=Path, nargs="+", required=True,
                        help="taught sessions of the same person, for scoring")
    parser.add_argument("--variants", default="[{}]", help="JSON list of config overrides")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    loaded = ft.load_base(None)
    names = union_class_names([read_teach_folder(args.train)])
    base = ft.RECIPE
    around = {"before_us": int(base.before_s * 1e6), "after_us": int(base.after_s * 1e6)}
    clips = take_clips([args.train], loaded.binning, names, **around)
    fresh = take_clips(args.fresh, loaded.binning, names, **around)
    model = model_for(loaded, names)
    started = time.perf_counter()
    feats = Trunk(model, model.config.num_blocks).features(
        [c.session for c in clips + fresh], base.feature_batch, lambda n: None, None)
    print(json.dumps({"trunk_s": round(time.perf_counter() - started, 1),
                      "takes": len(clips), "fresh_takes": len(fresh)}), flush=True)
    by_clip = dict(zip(map(id, clips), feats[:len(clips)], strict=True))
    fresh_feats = feats[len(clips):]
    streaming = default_streaming_config(loaded.readout, loaded.binning.dt_us)
    for overrides in json.loads(args.variants):
        config = dataclasses.replace(base, **overrides)
        torch.manual_seed(config.seed)
        model = model_for(loaded, names)
        trunk = Trunk(model, model.config.num_blocks)
        train, val = ft.split_takes(clips, len(names), config)
        tuner = Tuner(model, trunk, config, streaming,
                      [(c.session, by_clip[id(c)]) for c in train],
                      [(c.session, by_clip[id(c)]) for c in val])
        started = time.perf_counter()
        tuner.fit(lambda step, acc: None, None)
        took = time.perf_counter() - started
        trunk.set_mode(False)
        with torch.no_grad():
            scores = [trunk.tail(f[:, None]).squeeze(1).numpy() for f in fresh_feats]
        result = score_streams(scores, [c.session for c in fresh], len(names), streaming)
        print(json.dumps({"variant": overrides, "train_s": round(took, 1),
                          "val_streaming_accuracy": tuner.best["accuracy"],
                          "kept_step": tuner.best["step"],
                          "fresh_streaming_accuracy": round(result.accuracy, 4),
                          "fresh_step_accuracy": round(result.step_accuracy, 4)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
