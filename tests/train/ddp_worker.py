"""Run by test_distributed.py under torchrun: one epoch of a tiny run on 2 gloo processes.
Each rank writes a digest of its final parameters, so the test can check that DDP kept the
replicas identical (BatchNorm running statistics are per rank by design: DDP broadcasts rank
0's at every forward, and rank 0 writes the checkpoint)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import CLASS_NAMES, quadrant_sessions, tiny_binning, tiny_model  # noqa: E402

from live_snn.engine.predictor import PredictorConfig  # noqa: E402
from live_snn.train.distributed import init_distributed, shutdown  # noqa: E402
from live_snn.train.evaluate import StreamingConfig  # noqa: E402
from live_snn.train.trainer import CheckpointInfo, TrainConfig, Trainer  # noqa: E402
from live_snn.train.windows import WindowSampler, WindowSpec  # noqa: E402


def main(out_dir: Path) -> None:
    torch.set_num_threads(1)
    ctx = init_distributed("cpu")
    window = WindowSpec(6, burn_in=2)
    sessions = quadrant_sessions(4, seed=1)
    steps = WindowSampler(sessions, window, seed=0).steps_per_epoch(4, ctx.world_size)
    config = TrainConfig(steps=steps, batch_size=4, window=window, lr=1e-2, seed=0,
                         eval_every=steps)
    trainer = Trainer(tiny_model(), config, sessions, quadrant_sessions(1, seed=2),
                      StreamingConfig(PredictorConfig()),
                      CheckpointInfo(tiny_binning(), CLASS_NAMES, {"dataset": "quadrants"}),
                      out_dir, ctx)
    trainer.fit()
    digest = hashlib.sha256()
    for _, value in sorted(trainer.module.named_parameters()):
        digest.update(value.detach().cpu().numpy().tobytes())
    (out_dir / f"rank{ctx.rank}.sha").write_text(f"{trainer.step} {digest.hexdigest()}")
    shutdown(ctx)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
