"""Which step a viewer shows, without Qt: following the newest step, selecting and walking
through past ones, and the time shown while a seek waits for its first step."""

from __future__ import annotations

from live_snn.view.history import StepHistory
from live_snn.view.state import ViewState


def test_following_shows_the_newest_step(predictions):
    history = StepHistory()
    view = ViewState(history)
    assert view.following and view.focus_bin() is None and view.time_shown_us() is None
    history.append(predictions(0, 4))
    assert view.focus_bin() == 4
    assert view.time_shown_us() == predictions(4, 4)[0].t_end_us
    history.append(predictions(5, 6))
    assert view.focus_bin() == 6


def test_selecting_and_walking_through_the_history(predictions):
    history = StepHistory()
    history.append(predictions(0, 1))
    view = ViewState(history)
    assert view.next_step() is None             # following: → asks the stream for a step
    assert view.previous_step() == 0            # ← goes back from the newest step
    assert view.select(0) and view.selected_bin == 0 and not view.following
    assert view.focus_bin() == 0
    assert view.previous_step() is None         # nothing before bin 0
    assert view.next_step() == 1                # → walks the history first
    assert view.select(1) and view.next_step() is None
    assert not view.select(7) and view.selected_bin == 1  # not in the history: no change
    history.append(predictions(2, 3))
    assert view.focus_bin() == 1                # a selected step stays in view
    view.follow_latest()
    assert view.following and view.focus_bin() == 3


def test_a_selected_step_that_left_the_history_gives_way_to_the_newest(predictions):
    history = StepHistory()
    history.append(predictions(0, 3))
    view = ViewState(history)
    view.select(2)
    history.clear()
    history.append(predictions(10, 11))
    assert view.selected_bin == 2 and view.focus_bin() == 11


def test_a_seek_shows_its_target_time_until_a_step_arrives(predictions):
    history = StepHistory()
    history.append(predictions(0, 9))
    view = ViewState(history)
    view.select(3)
    view.seek(55_000)
    assert view.following and view.time_shown_us() == 55_000
    view.steps_arrived(0)                       # a redraw with nothing new keeps the target
    assert view.time_shown_us() == 55_000
    history.append(predictions(5, 5))
    view.steps_arrived(1)
    assert view.time_shown_us() == predictions(5, 5)[0].t_end_us
    view.seek(0)
    view.new_session()
    assert view.following and view.seek_target_us is None
