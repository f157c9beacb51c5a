from __future__ import annotations

import numpy as np
import pytest

from live_snn_ui.activity_panel import ActivityPanel


def test_rates_heatmap_and_current_bars(themed_app):
    panel = ActivityPanel()
    panel.set_layers(["a", "b", "c"])
    rates = np.random.default_rng(0).random((50, 3)).astype(np.float32) * 0.3
    panel.set_window(rates, np.arange(50))
    np.testing.assert_array_equal(panel.rates_window(), rates)
    assert panel.drawn_image().shape == (3, 50)
    np.testing.assert_allclose(panel.bar_rates(), rates[-1])
    panel.set_window(rates, np.arange(50), marked_bin=10)
    np.testing.assert_allclose(panel.bar_rates(), rates[10])
    with pytest.raises(ValueError, match=r"\[N, 3\]"):
        panel.set_window(np.zeros((5, 2)), np.arange(5))
