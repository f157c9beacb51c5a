from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from live_snn.classes import DVS_GESTURE_CLASSES
from live_snn_ui.theme import UNCERTAIN_RGB, class_colors
from live_snn_ui.timeline import TimelineView, strip_colors


def test_strip_colours_match_the_class_palette():
    colors = class_colors(11)
    labels = np.array([0, 3, -1, 10])
    out = strip_colors(labels, np.array([False, False, False, True]), colors)
    np.testing.assert_array_equal(out[0], colors[0])
    np.testing.assert_array_equal(out[1], colors[3])
    assert tuple(out[2]) != tuple(colors[0])                      # no step: background
    grey = 0.3 * colors[10].astype(float) + 0.7 * np.array(UNCERTAIN_RGB)
    np.testing.assert_allclose(out[3], grey, atol=1)               # uncertain: greyed


def test_strip_colours_of_no_steps_or_a_plain_list():
    colors = class_colors(11)
    assert strip_colors(np.empty(0), None, colors).shape == (0, 3)    # an empty float array
    np.testing.assert_array_equal(strip_colors([2, -1], None, colors)[0], colors[2])


@pytest.fixture
def timeline(themed_app, qtbot):
    view = TimelineView()
    qtbot.addWidget(view)
    view.set_classes(DVS_GESTURE_CLASSES)
    view.set_span(20_000, 50)
    view.resize(800, 200)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_one_column_per_bin_and_truth_row(timeline):
    labels = np.arange(40) % 11
    truth = (np.arange(40) // 4) % 11
    timeline.set_data(0, labels, uncertain=np.zeros(40, bool), confidence=np.full(40, 0.5),
                      ground_truth=truth)
    first, drawn = timeline.strip_labels()
    assert first == 0 and len(drawn) == 40
    np.testing.assert_array_equal(timeline.truth_labels(), truth)
    image = timeline.strip_image()
    assert image.shape == (2, 40, 3)
    np.testing.assert_array_equal(image[0, 5], class_colors(11)[5])
    timeline.set_data(0, labels, ground_truth=np.full(40, -1))   # no labels: no truth row
    assert timeline.truth_labels() is None and timeline.strip_image().shape == (1, 40, 3)


def test_bin_at_and_click_select_a_step(timeline, qtbot):
    timeline.set_data(10, np.arange(20) % 11)
    assert timeline.bin_at(0.0) is None                  # before the first step held
    assert timeline.bin_at(0.2 + 0.001) == 10
    assert timeline.bin_at(0.2 + 19 * 0.02 + 0.01) == 29
    assert timeline.bin_at(1.0) is None
    view = timeline.plot.getPlotItem().getViewBox()
    scene_pos = view.mapViewToScene(QPointF(timeline.x_of_bin(17), 0.5))
    widget_pos = timeline.plot.mapFromScene(scene_pos)
    with qtbot.waitSignal(timeline.binClicked, timeout=2000) as blocker:
        qtbot.mouseClick(timeline.plot.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPoint(int(widget_pos.x()), int(widget_pos.y())))
    assert blocker.args == [17]
