"""What a model step shows besides its scores, by name, for every layer that reads it (the
model's taps, the engine's records, the history, the export, the GUI): the parts of an
attention layer's tap, in the order the GUI and the export list them."""

from __future__ import annotations

# gate M, branch A (temporal), branch B (channel); see live_snn.model.state.AttentionTap
ATTENTION_PARTS: tuple[str, ...] = ("gate", "branch_a", "branch_b")
