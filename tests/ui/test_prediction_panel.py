from __future__ import annotations

import numpy as np
import pytest

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn_ui.prediction_panel import PredictionPanel
from live_snn_ui.theme import class_colors, hex_color


@pytest.fixture
def panel(themed_app):
    panel = PredictionPanel()
    panel.set_classes(DVS_GESTURE_CLASSES, uncertain_below=0.4)
    return panel


def test_label_confidence_and_bars(panel):
    probs = np.full(11, 0.05, np.float32)
    probs[2] = 0.5
    smoothed = np.full(11, 0.02, np.float32)
    smoothed[3] = 0.8
    panel.show_step(probs, smoothed, 3, 0.8, False, ground_truth=3, caption="bin 7")
    assert panel.label.text() == "right arm clockwise"
    assert hex_color(class_colors(11)[3]) in panel.label.styleSheet()
    assert "80%" in panel.detail.text() and "matches truth ✓" in panel.detail.text()
    assert "right arm clockwise" not in panel.detail.text()  # named once, in the label
    raw, smooth = panel.bar_values()
    np.testing.assert_array_equal(raw, probs)
    np.testing.assert_array_equal(smooth, smoothed)
    np.testing.assert_allclose(panel.smoothed_bar_widths(), smoothed)


def test_uncertain_state_is_visible(panel):
    smoothed = np.full(11, 1 / 11, np.float32)
    panel.show_step(smoothed, smoothed, 0, 0.09, True, ground_truth=4)
    assert panel.label.text() == "uncertain"
    assert "best guess" in panel.detail.text() and "hand clap" in panel.detail.text()
    assert "truth right arm counter-clockwise ✗" in panel.detail.text()
    assert panel.threshold_shown() == pytest.approx(0.4)


def test_wrong_class_count_is_a_clear_error(panel):
    with pytest.raises(ValueError, match="expected 11 class probabilities"):
        panel.show_step(np.ones(3), np.ones(3), 0, 1.0, False)


def test_the_outline_follows_the_label_and_the_colours_stay(panel):
    probs = np.full(11, 1 / 11, np.float32)
    outlined = panel.outlined_bars

    panel.show_step(probs, probs, 3, 0.5, False)
    assert outlined() == [3]
    brushes, pens = panel.bar_styles()
    panel.show_step(probs, probs, 3, 0.5, False)   # same label: pens and brushes kept
    assert outlined() == [3] and len(brushes) == 11 and len(pens) == 11
    assert panel.bar_styles()[0] == brushes and panel.bar_styles()[1] == pens
    panel.show_step(probs, probs, 7, 0.5, False)
    assert outlined() == [7]
    panel.set_classes(("a", "b", "c"))             # fewer classes: new colours, no outline
    assert outlined() == [] and len(panel.bar_styles()[0]) == 3
    thirds = np.full(3, 1 / 3, np.float32)
    panel.show_step(thirds, thirds, 1, 0.4, False)
    assert outlined() == [1] and len(panel.bar_styles()[1]) == 3
