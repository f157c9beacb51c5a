"""A network trained on *real* DVS128 Gesture, used as a measure of how real the simulator's
gestures look (``live-snn bench realism``). It is not part of the product and never trains
anything: it only scores simulated gestures.

The network (NeuroBench's CSNN, Apache-2.0; weights in ``../shared/data/judge``), written
from its description: frames ``[2, 32, 32]`` (OFF, ON) of 40 ms; three blocks of
conv 5x5 ("same", bias) -> max-pool 2 -> leaky integrate-and-fire; a linear layer
1024 -> 11 and a last LIF layer whose spikes, summed over all frames, vote for the class.
Each LIF resets by subtraction, decided from the previous membrane:
``r = m > threshold; m = beta * m + input - r * threshold; spike = m > threshold``.
Preprocessing as NeuroBench tested it: keep an event only if one of its 8 neighbours had
an event in the previous 10 ms, divide coordinates by 4, count per pixel and polarity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from live_snn.bench.recording_stats import isolated_mask
from live_snn.binning import bins_in
from live_snn.errors import LiveSnnError

DEFAULT_JUDGE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "judge" / "dvsgesture_real_csnn.safetensors"
FRAME_US = 40_000
SENSOR = 128  # the judge saw DVS128 events
GRID = 32  # ... binned to 32x32

# name -> shape of every tensor the network needs.
JUDGE_TENSORS: dict[str, tuple[int, ...]] = {
    "conv1.weight": (16, 2, 5, 5), "conv1.bias": (16,),
    "conv2.weight": (32, 16, 5, 5), "conv2.bias": (32,),
    "conv3.weight": (64, 32, 5, 5), "conv3.bias": (64,),
    "linear1.weight": (11, 1024), "linear1.bias": (11,),
    **{f"lif{k}.{name}": () for k in range(1, 5) for name in ("beta", "threshold")},
}


class RealGestureJudge:
    """The CSNN, evaluated one sample at a time (its membranes start at zero per sample)."""

    def __init__(self, tensors: dict[str, torch.Tensor]) -> None:
        problems = [
            f"{name}: expected shape {shape}, got "
            + (str(tuple(tensors[name].shape)) if name in tensors else "nothing")
            for name, shape in JUDGE_TENSORS.items()
            if name not in tensors or tuple(tensors[name].shape) != shape
        ]
        if problems:
            raise LiveSnnError("the judge's weights do not match its network: " + "; ".join(problems))
        self.tensors = {name: tensors[name].float() for name in JUDGE_TENSORS}

    @classmethod
    def load(cls, path: str | Path = DEFAULT_JUDGE) -> RealGestureJudge:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        path = Path(path)
        if not path.is_file():
            raise LiveSnnError(f"no judge network at {path} (it lives in ../shared/data/judge)")
        try:
            return cls(load_file(str(path)))
        except (OSError, SafetensorError) as exc:
            raise LiveSnnError(f"cannot read the judge network {path}: {exc}") from exc

    @torch.no_grad()
    def output_spikes(self, frames: np.ndarray | torch.Tensor) -> np.ndarray:
        """Output spikes per class summed over ``frames`` ``[T, 2, 32, 32]`` (OFF, ON)."""
        w = self.tensors
        x = torch.as_tensor(np.asarray(frames, dtype=np.float32))
        if x.ndim != 4 or tuple(x.shape[1:]) != (2, GRID, GRID):
            raise ValueError(f"judge frames must be [T, 2, {GRID}, {GRID}], got {tuple(x.shape)}")
        membranes: list[torch.Tensor | None] = [None] * 4
        votes = torch.zeros(11)
        for t in range(x.shape[0]):
            h = x[t:t + 1]
            for k in range(1, 4):
                h = F.max_pool2d(F.conv2d(h, w[f"conv{k}.weight"], w[f"conv{k}.bias"], padding=2), 2)
                membranes[k - 1], h = _lif(membranes[k - 1], h, w[f"lif{k}.beta"], w[f"lif{k}.threshold"])
            h = F.linear(h.flatten(1), w["linear1.weight"], w["linear1.bias"])
            membranes[3], spikes = _lif(membranes[3], h, w["lif4.beta"], w["lif4.threshold"])
            votes += spikes[0]
        return votes.numpy()

    def classify(self, events: np.ndarray, t0_us: int, t1_us: int) -> tuple[int, np.ndarray]:
        """The judge's class for the DVS128 events of ``[t0, t1)``, and its votes."""
        votes = self.output_spikes(judge_frames(events, t0_us, t1_us))
        return int(np.argmax(votes)), votes


def _lif(membrane: torch.Tensor | None, current: torch.Tensor, beta: torch.Tensor,
         threshold: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if membrane is None:
        membrane = torch.zeros_like(current)
    reset = (membrane > threshold).float()
    membrane = beta * membrane + current - reset * threshold
    return membrane, (membrane > threshold).float()


def judge_frames(events: np.ndarray, t0_us: int, t1_us: int) -> np.ndarray:
    """The judge's input for the events of ``[t0, t1)`` of a 128x128 sensor: denoised,
    downsampled to 32x32, counted per polarity in 40 ms frames ``[T, 2, 32, 32]``."""
    inside = events[(events["t"] >= t0_us) & (events["t"] < t1_us)]
    keep = ~isolated_mask(inside["t"], inside["x"], inside["y"], SENSOR, SENSOR)
    kept = inside[keep]
    n_frames = max(1, bins_in(t1_us - t0_us, FRAME_US))
    frame = (kept["t"] - t0_us) // FRAME_US
    cell = ((frame * 2 + kept["p"].astype(np.int64)) * GRID + kept["y"] // 4) * GRID + kept["x"] // 4
    counts = np.bincount(cell.astype(np.int64), minlength=n_frames * 2 * GRID * GRID)
    return counts.reshape(n_frames, 2, GRID, GRID).astype(np.float32)
