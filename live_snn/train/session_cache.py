"""Binned sessions kept on disk, so that a resumed or repeated run does not simulate, decode
or bin again.

One safetensors file per session, named by :func:`session_key`: a digest of what the session
is made from (a data set item), the binning, and where it matters the code that makes it
(the simulator's). Every loader that caches goes through :meth:`SessionCache.cached_sessions`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from live_snn.binning import BinningConfig
from live_snn.train.sessions import LabelledSession, Segment


def session_key(item: str, binning: BinningConfig, code: str = "") -> str:
    """The file name (without suffix) of the session made from ``item`` with ``binning`` by
    the code whose digest is ``code``."""
    raw = json.dumps({"item": item, "binning": binning.as_dict(), "code": code, "v": 1},
                     sort_keys=True)
    return hashlib.sha1(raw.encode()).hexdigest()[:20]


class SessionCache:
    """Sessions in ``directory`` (created when the first one is saved); ``None``: no cache,
    every session is produced."""

    def __init__(self, directory: Path | None):
        self.directory = None if directory is None else Path(directory)

    def cached_sessions(
        self, keys: Sequence[str],
        produce: Callable[[list[int]], Sequence[LabelledSession]],
    ) -> list[LabelledSession]:
        """The session of each of ``keys``, in order: read back where the cache has it; the
        others come from one call ``produce(indices)`` (their indices into ``keys``, in
        order, so that a loader can make them in parallel) and are saved."""
        found: dict[int, LabelledSession] = {}
        missing = []
        for index, key in enumerate(keys):
            path = self._path(key)
            if path is not None and path.is_file():
                found[index] = load_session(path)
            else:
                missing.append(index)
        if missing:
            for index, session in zip(missing, produce(missing), strict=True):
                path = self._path(keys[index])
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    save_session(path, session)
                found[index] = session
        return [found[index] for index in range(len(keys))]

    def _path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{key}.safetensors"


def save_session(path: Path, session: LabelledSession) -> None:
    """Write ``session`` next to ``path`` and rename it into place (never half a file)."""
    segments = torch.tensor([[g.label, g.start, g.end] for g in session.segments],
                            dtype=torch.int64).reshape(-1, 3)
    tmp = path.with_name(path.name + ".tmp")
    save_file({"frames": session.frames.contiguous(), "labels": session.labels,
               "since": session.since_onset, "segments": segments}, str(tmp),
              metadata={"name": session.name, "dt_us": str(session.dt_us)})
    tmp.replace(path)


def load_session(path: Path) -> LabelledSession:
    with safe_open(str(path), framework="pt") as fh:
        meta = fh.metadata()
    t = load_file(str(path))
    return LabelledSession(meta["name"], t["frames"], t["labels"], t["since"],
                           tuple(Segment(*map(int, row)) for row in t["segments"].tolist()),
                           int(meta["dt_us"]))
