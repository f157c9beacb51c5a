from __future__ import annotations

import pytest

from live_snn_ui.controls import Controls, format_seconds


@pytest.fixture
def controls(themed_app, qtbot):
    bar = Controls()
    qtbot.addWidget(bar)
    return bar


def test_format_seconds():
    assert format_seconds(1.5) == "1.500 s"
    assert format_seconds(75.25) == "1:15.250"


def test_seek_slider_follows_time_and_emits_absolute_times(controls, qtbot):
    controls.set_seekable(1_000_000, 7_000_000)
    assert controls.seek_slider.isEnabled() and controls.seek_slider.maximum() == 6000
    controls.set_time(3_500_000)
    assert controls.seek_slider.value() == 2500
    assert controls.time_label.text() == "2.500 s / 6.000 s"
    controls.seek_slider.setValue(1000)
    with qtbot.waitSignal(controls.seekRequested) as blocker:
        controls.seek_slider.sliderReleased.emit()     # the user lets go of the slider
    assert blocker.args == [2_000_000]
    with qtbot.waitSignal(controls.seekRequested) as blocker:
        controls.home_action.trigger()
    assert blocker.args == [1_000_000]


def test_live_source_cannot_seek(controls):
    controls.set_seekable(None, None)
    assert not controls.seek_slider.isEnabled() and not controls.home_action.isEnabled()
    controls.set_time(2_000_000)
    assert controls.time_label.text() == "2.000 s"


def test_speed_and_transport_signals(controls, qtbot):
    with qtbot.waitSignal(controls.speedChanged) as blocker:
        controls.speed_box.setCurrentIndex(controls.speed_box.count() - 1)
    assert blocker.args == [None]                       # "max"
    with qtbot.waitSignal(controls.speedChanged) as blocker:
        controls.speed_box.setCurrentIndex(0)
    assert blocker.args == [0.1]
    for action, signal in ((controls.play_action, controls.playPauseRequested),
                           (controls.step_action, controls.stepRequested),
                           (controls.reset_action, controls.resetRequested)):
        with qtbot.waitSignal(signal):
            action.trigger()
    assert [a.shortcut().toString() for a in (controls.play_action, controls.step_action,
                                              controls.home_action, controls.reset_action)] == [
        "Space", "Right", "Home", "R"]
    controls.set_running(True)
    assert "Pause" in controls.play_action.text()


def test_camera_menu_lists_discovered_cameras(controls, qtbot):
    controls.set_cameras(None)
    assert [a.text() for a in controls.camera_menu.actions()] == ["searching…"]
    controls.set_cameras([])
    assert [a.text() for a in controls.camera_menu.actions()] == ["no camera found"]
    controls.set_cameras([("DVXplorer DXA000123", "camera:DXA000123")])
    with qtbot.waitSignal(controls.openSpecRequested) as blocker:
        controls.camera_menu.actions()[0].trigger()
    assert blocker.args == ["camera:DXA000123"]
