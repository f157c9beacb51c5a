"""``teach:DIR``: taught sessions as training and evaluation data, classes matched by name."""

from __future__ import annotations

import pytest

from live_snn.binning import BinningConfig
from live_snn.events import Resolution
from live_snn.sinks.teach_folder import TeachFolderError
from live_snn.train.data_spec import parse_data_spec
from live_snn.train.loaders import load_sessions
from live_snn.train.loaders.teach import take_clips

BINNING = BinningConfig(dt_us=20_000, sensor=Resolution(128, 128), model=Resolution(64, 64))


def test_the_spec_takes_the_folders_classes(taught_folder):
    spec = parse_data_spec(f"teach:{taught_folder}")
    assert spec.kind == "teach" and spec.class_names == ("right hand wave", "swipe")
    [session] = load_sessions(spec, BINNING)
    assert [s.label for s in session.segments] == [0, 1, 0, 1]
    assert all(s.end - s.start == 50 for s in session.segments)     # 1 s takes, 20 ms bins


def test_labels_follow_the_class_list_asked_for_by_name(taught_folder):
    spec = parse_data_spec(f"teach:{taught_folder}")
    [session] = load_sessions(spec, BINNING, class_names=("clap", "Swipe", "right hand wave"))
    assert [s.label for s in session.segments] == [2, 1, 2, 1]


def test_classes_the_model_does_not_know_are_named(taught_folder):
    spec = parse_data_spec(f"teach:{taught_folder}")
    with pytest.raises(TeachFolderError, match=r"classes \['swipe'\] are not among"):
        load_sessions(spec, BINNING, class_names=("right hand wave", "hand clap"))


def test_take_clips_hold_one_take_with_its_surroundings(taught_folder):
    clips = take_clips([taught_folder], BINNING, ("right hand wave", "swipe"),
                       before_us=400_000, after_us=200_000)
    assert [c.class_index for c in clips] == [0, 1, 0, 1]
    for clip in clips:
        [segment] = clip.session.segments
        assert segment.label == clip.class_index
        assert 10 <= len(clip.session) - segment.end <= 11   # 0.2 s after, on the bin grid
    # 0.4 s before, except the first take, 0.3 s after the recording starts
    starts = [c.session.segments[0].start for c in clips]
    assert starts[0] == 15 and all(20 <= s <= 21 for s in starts[1:])


def test_a_folder_that_is_not_a_session_is_refused_at_parse_time(tmp_path):
    with pytest.raises(TeachFolderError, match="not a taught session folder"):
        parse_data_spec(f"teach:{tmp_path}")
