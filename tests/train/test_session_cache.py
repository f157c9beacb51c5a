"""The session cache every caching loader goes through: what is cached is read back as it
was saved, and only what is missing is produced, in one call."""

from __future__ import annotations

import torch

from live_snn.binning import BinningConfig
from live_snn.train.session_cache import SessionCache, session_key
from live_snn.train.sessions import LabelledSession, Segment


def session(name: str, n: int = 4) -> LabelledSession:
    frames = torch.arange(n * 2 * 3 * 3, dtype=torch.uint8).reshape(n, 2, 3, 3)
    labels = torch.tensor([-1] + [2] * (n - 1))
    since = torch.tensor([-1, *range(n - 1)])
    return LabelledSession(name, frames, labels, since, (Segment(2, 1, n),), 10_000)


def test_missing_sessions_are_produced_once_saved_and_read_back(tmp_path):
    cache = SessionCache(tmp_path / "cache")
    asked = []

    def produce(indices):
        asked.append(list(indices))
        return [session(f"s{i}") for i in indices]

    first = cache.cached_sessions(["a", "b"], produce)
    assert [s.name for s in first] == ["s0", "s1"] and asked == [[0, 1]]
    again = cache.cached_sessions(["b", "c", "a"], produce)
    assert asked == [[0, 1], [1]]                     # only "c" was missing
    assert [s.name for s in again] == ["s1", "s1", "s0"]
    assert torch.equal(again[0].frames, first[1].frames)
    assert again[0].segments == first[1].segments and again[0].dt_us == 10_000
    assert torch.equal(again[2].since_onset, first[0].since_onset)


def test_without_a_directory_everything_is_produced(tmp_path):
    cache = SessionCache(None)
    made = cache.cached_sessions(["a"], lambda indices: [session("x") for _ in indices])
    assert made[0].name == "x"
    assert cache.cached_sessions(["a"], lambda indices: [session("y") for _ in indices])[0].name == "y"


def test_keys_differ_by_item_binning_and_code():
    binning = BinningConfig(dt_us=10_000, sensor=(128, 128), model=(64, 64))
    other = BinningConfig(dt_us=20_000, sensor=(128, 128), model=(64, 64))
    keys = {session_key("sim:1:30", binning), session_key("sim:2:30", binning),
            session_key("sim:1:30", other), session_key("sim:1:30", binning, "abc")}
    assert len(keys) == 4
    assert session_key("sim:1:30", binning) == session_key("sim:1:30", binning)
