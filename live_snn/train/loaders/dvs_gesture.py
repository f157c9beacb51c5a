"""DVS128 Gesture, IBM layout: each recording is one labelled session as recorded, cached
under a key of its path and the binning."""

from __future__ import annotations

from pathlib import Path

from live_snn.binning import BinningConfig
from live_snn.errors import SourceError
from live_snn.train.data_spec import DataSpec
from live_snn.train.session_cache import SessionCache, session_key
from live_snn.train.sessions import LabelledSession, bin_session


def load_dvs_gesture(spec: DataSpec, binning: BinningConfig, *, split: str,
                     cache: SessionCache) -> list[LabelledSession]:
    from live_snn.sources.dvs_gesture import DvsGestureDataset

    dataset = DvsGestureDataset(spec.path, split=split)
    count = len(dataset) if spec.limit is None else min(spec.limit, len(dataset))
    paths = [Path(dataset.files[index]) for index in range(count)]
    keys = [session_key(f"dvsgesture:{path.resolve()}", binning) for path in paths]

    def produce(indices: list[int]) -> list[LabelledSession]:
        sessions = []
        for index in indices:  # one recording (a whole session) at a time
            events, track = dataset[index]
            if len(events) == 0:
                raise SourceError(f"{paths[index]} holds no events")
            sessions.append(bin_session(paths[index].stem, events, track, binning,
                                        t0_us=events.t_first, t_end_us=events.t_last + 1))
        return sessions

    return cache.cached_sessions(keys, produce)
