"""Sources for a teaching session: the simulated person and everything else."""

from __future__ import annotations

import pytest

from live_snn.errors import SourceError
from live_snn.sources.performer import (
    Performer,
    SimPerformerSource,
    open_teaching_source,
    parse_performs,
)


def test_sim_specs_give_a_simulated_person_with_every_sim_key():
    with open_teaching_source("sim:seed=3,tempo=1.2,size=0.9,speed=max") as source:
        assert isinstance(source, SimPerformerSource) and isinstance(source, Performer)
        assert source.config.speed_scale == 1.2 and source.speed is None
        assert "performing the prompts" in source.description


def test_names_map_to_gestures_by_default_or_as_told():
    with open_teaching_source("sim:", {"Swipe": "3"}) as source:
        assert source.gesture_for("swipe") == 2                 # left hand wave
        assert source.gesture_for("Right Hand Wave") == 1       # a DVS128 name is itself
        assert source.gesture_for("thumbs up") is None
        source.check_can_perform(["swipe", "arm roll"])


def test_a_performed_prompt_becomes_a_gesture_of_the_mapped_class():
    with open_teaching_source("sim:seed=1,speed=max", {"swipe": "arm-roll"}) as source:
        source.perform("swipe", 200_000, 1_200_000)
        for batch in source:
            if batch.t_last >= 1_300_000 if len(batch) else False:
                break
        [segment] = source.labels.segments
    assert segment.label == 7 and 200_000 < segment.start_us < segment.end_us <= 1_200_000


@pytest.mark.parametrize("items, words", [(["swipe"], "NAME=GESTURE"),
                                          (["=wave"], "NAME=GESTURE")])
def test_bad_perform_options_are_refused(items, words):
    with pytest.raises(SourceError, match=words):
        parse_performs(items)


def test_an_unknown_gesture_is_refused():
    with pytest.raises(SourceError, match="--perform swipe=backflip"):
        open_teaching_source("sim:", {"swipe": "backflip"})


def test_perform_is_only_for_the_simulator(tmp_path):
    with pytest.raises(SourceError, match="not the simulator"):
        open_teaching_source(str(tmp_path / "x.aedat4"), {"swipe": "arm-roll"})
