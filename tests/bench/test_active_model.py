"""The random-weights checkpoint the GUI tests, the screenshot check and the GUI benchmark
use must make every panel move: every spiking layer fires and the gates leave 0.5."""

from __future__ import annotations

import numpy as np
import torch

from live_snn.bench.active_model import write_active_random_checkpoint
from live_snn.binning import bin_events
from live_snn.events import EventBatch
from live_snn.model import load_checkpoint
from live_snn.sources.aedat4 import Aedat4Source

STEPS = 12


def test_every_layer_fires_on_a_real_recording(recordings_dir, tmp_path):
    path = write_active_random_checkpoint(tmp_path / "active.safetensors", input_size=(32, 32),
                                          channels=16, hidden=64, num_blocks=3, T=8)
    checkpoint = load_checkpoint(path)
    model = checkpoint.model
    with Aedat4Source(recordings_dir / "dvsgesture_sample_01.aedat4") as source:
        events = EventBatch.concatenate(list(source))
    frames = torch.from_numpy(bin_events(events, checkpoint.binning).frames[:STEPS])
    state = model.init_state(batch_size=1)
    rates = {name: [] for name in model.spiking_layers}
    gates = {name: [] for name in model.attention_layers}
    scores = []
    with torch.no_grad():
        for frame in frames:
            step_scores, state, taps = model.step(frame[None], state)
            scores.append(step_scores[0].numpy())
            for name in rates:
                rates[name].append(float(taps.spike_rates[name][0]))
            for name in gates:
                gates[name].append(taps.attention[name].gate[0].numpy())
    assert model.attention_layers and model.spiking_layers
    silent = [name for name, r in rates.items() if max(r) <= 0.0]
    assert not silent, f"layers that never fired: {silent}"
    for name, per_step in gates.items():
        assert np.abs(np.stack(per_step) - 0.5).max() > 1e-3, f"{name}: gates stuck at 0.5"
    assert np.abs(np.stack(scores)).max() > 0, "class scores all 0"
