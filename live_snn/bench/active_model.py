"""A random-weights lite checkpoint whose every layer fires, for the GUI tests, the screenshot
check and the GUI benchmark while no trained model is bundled.

Random weights alone leave the deeper layers silent (the attention gates then sit at exactly
0.5 and the class scores at 0), which would exercise nothing; scaling the BatchNorm affine
parameters and the linear weights makes every layer spike on real event frames, so the
gates, branches, spike rates and class scores all move. It predicts nothing meaningful.
"""

from __future__ import annotations

from pathlib import Path

BN_GAIN = 4.0
BN_BIAS = 0.8
LINEAR_GAIN = 12.0


def write_active_random_checkpoint(path: str | Path, *, dt_us: int = 20_000, seed: int = 0,
                                   sensor: tuple[int, int] = (128, 128),
                                   **model_fields) -> Path:
    """Lite preset by default; ``model_fields`` override ModelConfig fields (e.g. a smaller
    ``input_size`` / ``channels`` / ``num_blocks`` for fast tests)."""
    import torch

    from live_snn.binning import BinningConfig
    from live_snn.classes import DVS_GESTURE_CLASSES
    from live_snn.model import ModelConfig, build_model, save_checkpoint

    torch.manual_seed(seed)
    config = ModelConfig(**{"preset": "lite", "attention": "causal", **model_fields})
    model = build_model(config)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.fill_(BN_GAIN)
                module.bias.fill_(BN_BIAS)
            elif isinstance(module, torch.nn.Linear):
                module.weight.mul_(LINEAR_GAIN)
    height, width = config.input_size
    binning = BinningConfig(dt_us=dt_us, sensor=sensor, model=(width, height))
    return save_checkpoint(path, model, binning=binning, class_names=DVS_GESTURE_CLASSES,
                           training={"data": "none: random weights, scaled so every layer "
                                             "fires (GUI tests and checks)"})
