"""Taught sessions (``teach:DIR[,DIR...]``): the folders ``live-snn teach record`` and the
window's Teach mode write (:mod:`live_snn.sinks.teach_folder`).

``load_teach`` gives each folder as one session, played as recorded (streaming evaluation);
``take_clips`` gives every take on its own with a little of what came before and after it
(fine-tuning, where the time between takes is not worth a model pass). Labels are given by
class *name*: a folder's classes are mapped onto the class list asked for, so a checkpoint
scores a folder whatever order either lists its classes in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from live_snn.binning import BinningConfig, bins_in
from live_snn.errors import SourceError
from live_snn.events import EventBatch, LabelSegment, LabelTrack, Resolution
from live_snn.sinks.teach_folder import TeachFolder, TeachFolderError, read_teach_folder
from live_snn.train.loaders.files import read_all_events
from live_snn.train.sessions import LabelledSession, bin_session


@dataclass
class TakeClip:
    """One take and its surroundings, binned: the take is the clip's one labelled segment
    (a neighbour's may show at an edge when takes follow closely)."""

    session: LabelledSession
    folder: Path
    take: int                # index of the take in its folder's labels (time order)
    class_index: int         # in the class list asked for
    sensor: Resolution       # of the recording


def read_folder_events(path: Path) -> tuple[TeachFolder, EventBatch]:
    """A folder, checked, and all its events (labels must lie inside the recording)."""
    folder = read_teach_folder(path)  # refuses a folder that is not one before decoding
    events, _ = read_all_events(folder.recording)
    if len(events) == 0:
        raise SourceError(f"{folder.recording} holds no events")
    return read_teach_folder(path, span_us=(events.t_first, events.t_last)), events


def relabel(folder: TeachFolder, class_names: Sequence[str]) -> LabelTrack:
    """The folder's labels as indices into ``class_names`` (matched by name, any case)."""
    index = {name.lower(): i for i, name in enumerate(class_names)}
    unknown = [n for n in folder.class_names if n.lower() not in index]
    used = {folder.class_names[s.label] for s in folder.labels.segments}
    if unknown and used & set(unknown):
        raise TeachFolderError(
            f"{folder.path}: classes {sorted(used & set(unknown))} are not among the model's "
            f"classes {list(class_names)}")
    segments = tuple(LabelSegment(index[folder.class_names[s.label].lower()], s.start_us,
                                  s.end_us) for s in folder.labels.segments)
    return LabelTrack(segments, tuple(class_names))


def load_teach(paths: Sequence[Path], binning: BinningConfig,
               class_names: Sequence[str]) -> list[LabelledSession]:
    sessions = []
    for path in paths:
        folder, events = read_folder_events(path)
        sessions.append(bin_session(
            f"{path.name}/teach", events, relabel(folder, class_names),
            binning.for_sensor(events.resolution), t0_us=events.t_first,
            t_end_us=events.t_last + 1))
    return sessions


def take_clips(paths: Sequence[Path], binning: BinningConfig, class_names: Sequence[str], *,
               before_us: int, after_us: int) -> list[TakeClip]:
    """Every kept take of the folders as a clip from ``before_us`` ahead of its start to
    ``after_us`` past its end, on the bin grid of the whole recording."""
    clips = []
    for path in paths:
        folder, events = read_folder_events(path)
        track = relabel(folder, class_names)
        own = binning.for_sensor(events.resolution)
        dt, t0 = own.dt_us, events.t_first
        for i, segment in enumerate(track.segments):
            first = t0 + max(segment.start_us - before_us - t0, 0) // dt * dt
            end = min(segment.end_us + after_us, events.t_last + 1)
            end = first + bins_in(end - first, dt) * dt
            session = bin_session(f"{path.name}/take{i + 1}", events.slice_time(first, end),
                                  track, own, t0_us=first, t_end_us=end)
            clips.append(TakeClip(session, path, i, segment.label, events.resolution))
    return clips
