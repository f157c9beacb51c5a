from __future__ import annotations

import numpy as np
import pytest

from live_snn_ui.attention_panel import AttentionPanel


@pytest.fixture
def panel(themed_app):
    panel = AttentionPanel()
    panel.set_layers({"blocks.3.tcja": 6, "blocks.4.tcja": 4})
    return panel


def window(t: int, c: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return {"gate": rng.random((t, c)).astype(np.float32),
            "branch_a": rng.normal(size=(t, c)).astype(np.float32),
            "branch_b": rng.normal(size=(t, c)).astype(np.float32)}


def test_heatmap_is_t_by_c_and_branches_switch(panel):
    parts = window(20, 6)
    panel.set_window(parts, np.arange(100, 120))
    assert panel.current_layer() == "blocks.3.tcja"
    np.testing.assert_array_equal(panel.heatmap_data(), parts["gate"])
    assert panel.drawn_image().shape == (6, 20)           # drawn with channels as rows
    for part in ("branch_a", "branch_b", "gate"):
        panel.set_part(part)
        np.testing.assert_array_equal(panel.heatmap_data(), parts[part])
    lo, hi = panel.color_levels()
    assert (lo, hi) == (0.0, 1.0)
    panel.set_part("branch_a")
    lo, hi = panel.color_levels()
    assert lo == -hi and hi > 0                             # signed branch: symmetric levels


def test_mean_gate_line_and_sorting(panel):
    parts = window(20, 6)
    panel.set_window(parts, np.arange(20))
    _, mean = panel.mean_gate_line()
    np.testing.assert_allclose(mean, parts["gate"].mean(axis=1), rtol=1e-6)
    panel.sort_box.setChecked(True)
    order = panel.channel_order()
    means = parts["gate"].mean(axis=0)
    assert list(order) == list(np.argsort(-means))
    np.testing.assert_array_equal(panel.heatmap_data(), parts["gate"][:, order])


def test_missing_steps_stay_missing_and_selected_step_is_marked(panel):
    parts = window(20, 6)
    for a in parts.values():
        a[:5] = np.nan                                      # the first 5 steps not seen yet
    panel.set_window(parts, np.arange(20), marked_bin=12)
    assert np.isnan(panel.heatmap_data()[:5]).all()
    assert panel.marked_offset() == pytest.approx(12 - 19)
    x, y = panel.profile()
    np.testing.assert_allclose(x, parts["gate"][12])        # the profile shows the selected step


def test_layer_drop_down_lists_every_layer_and_emits(panel, qtbot):
    assert [panel.layer_box.itemData(i) for i in range(panel.layer_box.count())] == [
        "blocks.3.tcja", "blocks.4.tcja"]
    with qtbot.waitSignal(panel.layerChanged) as blocker:
        panel.set_current_layer("blocks.4.tcja")
    assert blocker.args == ["blocks.4.tcja"]
    with pytest.raises(KeyError, match="blocks.7"):
        panel.set_current_layer("blocks.7.tcja")
