"""The prompts of a teaching session on the source's clock: phases, labels, redo, discard,
stop and a lost source."""

from __future__ import annotations

import pytest

from live_snn.teach.plan import TeachPlan, TeachPlanError
from live_snn.teach.session import TeachSession

MS = 1000


def plan(**changes) -> TeachPlan:
    fields = {"class_names": ("wave", "clap"), "takes_per_class": 2, "take_s": 1.0,
              "rest_s": 0.5, "countdown_s": 2.0, "order": "fixed", **changes}
    return TeachPlan(**fields)


def run_until(session: TeachSession, t_us: int, step_us: int = 10 * MS) -> None:
    now = session.now_us or 0
    while now < t_us:
        now = min(now + step_us, t_us)
        session.advance(now)


def test_phases_follow_the_source_clock_and_labels_are_the_prompted_spans():
    cues = []
    session = TeachSession(plan(), on_cue=lambda *cue: cues.append(cue))
    assert session.status().phase == "waiting"
    session.advance(1_000_000)                      # first event at 1 s: countdown from there
    status = session.status()
    assert (status.phase, status.countdown, status.prompt) == ("countdown", 2, "Get ready: wave — 2")
    assert cues == [("wave", 3_000_000, 4_000_000)]   # told ahead: go at 3 s, for 1 s
    run_until(session, 2_500_000)
    assert session.status().prompt == "Get ready: wave — 1"
    run_until(session, 3_000_000)
    assert session.status().prompt == "Go: wave"
    run_until(session, 4_000_000)
    assert session.status().prompt == "Rest — next: clap"
    run_until(session, 20_000_000)
    assert session.status().phase == "done"
    kept = session.kept()
    assert [t.class_name for t in kept] == ["wave", "clap", "wave", "clap"]
    # countdown 2 s + take 1 s + rest 0.5 s per take
    assert [(t.start_us, t.end_us) for t in kept][:2] == [(3_000_000, 4_000_000),
                                                          (6_500_000, 7_500_000)]
    assert session.status().kept_per_class == (2, 2)


def test_a_jump_of_the_clock_passes_every_phase_it_covers():
    session = TeachSession(plan(takes_per_class=1))
    session.advance(0)
    session.advance(60_000_000)
    assert session.status().phase == "done" and len(session.kept()) == 2


def test_redo_throws_the_newest_take_away_and_prompts_it_again():
    session = TeachSession(plan(takes_per_class=1))
    session.advance(0)
    run_until(session, 3_100_000)                   # first take (wave) done, resting
    assert session.status().can_undo
    assert session.redo()
    assert not session.status().can_undo and not session.redo()   # once per take
    assert session.status().prompt == "Rest — next: wave"
    run_until(session, 30_000_000)
    assert [(t.class_name, t.status) for t in session.takes] == [
        ("wave", "redone"), ("wave", "kept"), ("clap", "kept")]


def test_redo_after_the_last_take_resumes_the_session():
    session = TeachSession(plan(takes_per_class=1))
    session.advance(0)
    run_until(session, 30_000_000)
    assert session.status().phase == "done"
    session.redo()
    assert session.status().phase == "countdown" and session.status().class_name == "clap"
    run_until(session, 40_000_000)
    assert session.status().phase == "done" and session.status().kept_per_class == (1, 1)


def test_discard_drops_the_take_for_good():
    session = TeachSession(plan(takes_per_class=1))
    session.advance(0)
    run_until(session, 3_100_000)
    assert session.discard()
    run_until(session, 30_000_000)
    assert session.status().kept_per_class == (0, 1)
    assert "discarded" in session.takes[0].status


@pytest.mark.parametrize("end, status", [("stop", "cut short"), ("lost", "lost")])
def test_a_take_under_way_is_thrown_away_and_said_so_the_others_kept(end, status):
    session = TeachSession(plan())
    session.advance(0)
    run_until(session, 5_500_000 + 400_000)         # second take (5.5 s..6.5 s) under way
    assert session.status().phase == "take"
    if end == "stop":
        session.stop()
    else:
        session.source_lost("camera unplugged")
    assert [t.status for t in session.takes] == ["kept", status]
    assert session.takes[1].end_us == 5_900_000
    assert "take 2 (clap) discarded" in session.status().message
    session.advance(60_000_000)                     # nothing moves after the end
    assert len(session.takes) == 2 and not session.redo()


def test_random_order_is_seeded_and_holds_every_take():
    a = plan(order="random", takes_per_class=5, seed=3).prompt_order()
    assert a == plan(order="random", takes_per_class=5, seed=3).prompt_order()
    assert sorted(a) == [0] * 5 + [1] * 5 and a != plan(order="fixed", takes_per_class=5).prompt_order()


@pytest.mark.parametrize("changes, words", [
    ({"class_names": ()}, "at least one class"),
    ({"class_names": ("Wave", "wave")}, "repeat"),
    ({"class_names": ("x" * 65,)}, "1..64 printable characters"),
    ({"class_names": ("bell\x07",)}, "printable"),
    ({"takes_per_class": 0}, "takes per class"),
    ({"take_s": 0.1}, "take lasts"),
    ({"order": "sorted"}, "order"),
])
def test_a_plan_that_cannot_be_carried_out_is_refused_in_one_line(changes, words):
    with pytest.raises(TeachPlanError, match=words) as caught:
        plan(**changes)
    assert "\n" not in str(caught.value)


def test_class_names_parse_from_commas_and_arguments():
    assert TeachPlan.parse_classes(["swipe left, thumbs up", "wave"]) == (
        "swipe left", "thumbs up", "wave")
