"""LiveLabel: per-step text drawn by the widget itself, rich text wrapped only at its edge."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont

from live_snn_ui.live_label import LiveLabel

RICH = ("confidence <b>100%</b> &nbsp;·&nbsp; "
        "<span style='color:#4caf50'>truth left arm counter-clockwise ✗</span>")


def _rich_label(qtbot, width: int) -> LiveLabel:
    label = LiveLabel(period_s=0.0)
    label.setFont(QFont("DejaVu Sans", 11))
    label.setTextFormat(Qt.TextFormat.RichText)
    qtbot.addWidget(label)
    label.resize(width, 60)
    label.show()  # a hidden widget gets its resize events only when shown
    label.setText(RICH)
    return label


def test_rich_text_stays_on_one_line_when_the_widget_is_wide_enough(themed_app, qtbot):
    label = _rich_label(qtbot, 1000)
    line = label.fontMetrics().lineSpacing()
    assert label.sizeHint().height() < 2 * line  # Qt's own default would wrap at ~140 px
    assert 200 < label.sizeHint().width() < 1000  # the text's width, not the widget's


def test_rich_text_wraps_at_the_widget_edge_and_the_height_follows(themed_app, qtbot):
    label = _rich_label(qtbot, 1000)
    one_line = label.sizeHint().height()
    label.resize(120, 60)
    assert label.sizeHint().height() >= 2 * one_line - 4
    label.resize(1000, 60)
    assert label.sizeHint().height() == one_line


def test_a_new_text_within_the_period_waits_but_text_returns_it(themed_app, qtbot):
    label = LiveLabel("first", period_s=10.0)
    qtbot.addWidget(label)
    label.setText("second")   # the first text has just been shown: this one waits
    label.setText("third")
    assert label.text() == "third"
    label.flush()
    assert label.text() == "third"
