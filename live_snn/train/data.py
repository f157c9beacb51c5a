"""Data sets for training and evaluation, each turned into :class:`LabelledSession` s with
the live binner (``bin_events``: the frames a model is trained on are the frames it sees live).

Specs (``--data`` / ``--val-data``):

* ``nmnist:PATH`` — N-MNIST, original layout (``PATH/Train/<digit>/*.bin``, ``PATH/Test/...``).
  Each sample is binned on its own from t = 0 to a fixed length, then ``per_session`` samples
  in a seeded random order are laid end to end into one stream (a digit after a digit).
  ``nmnist:PATH,holdout=N`` keeps N training samples (the same ones for every run) out of
  training as split ``val``, so that epochs and settings are picked without the test set.
* ``dvsgesture:PATH`` — DVS128 Gesture, IBM layout (``user*.aedat`` + ``*_labels.csv``,
  ``trials_to_train.txt`` / ``trials_to_test.txt``): each file is one session as recorded.
* ``sim:seeds=0-63,duration=30`` — sessions of the gesture simulator, one per seed
  (128×128 sensor), generated in ``workers`` processes.
* ``files:PATH[,PATH...]`` — AEDAT4 recordings (labels only if the source has some).

Binned sessions can be cached (``cache_dir``) as safetensors, keyed by the spec item and the
binning, so a resumed or repeated run does not simulate or decode again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from live_snn.binning import BinningConfig, bin_events
from live_snn.classes import DVS_GESTURE_CLASSES, NMNIST_CLASSES
from live_snn.errors import LiveSnnError
from live_snn.events import EventBatch, LabelTrack, Resolution
from live_snn.train.sessions import LabelledSession, Segment, concat_clips, session_from_frames

SIM_SENSOR = Resolution(128, 128)
NMNIST_SENSOR = Resolution(34, 34)
DVS_GESTURE_SENSOR = Resolution(128, 128)


class DataSpecError(LiveSnnError):
    """A ``--data`` spec that cannot be understood or whose data is missing."""


@dataclass(frozen=True)
class DataSpec:
    kind: str                        # "nmnist" | "dvsgesture" | "sim" | "files"
    path: Path | None = None
    paths: tuple[Path, ...] = ()
    seeds: tuple[int, ...] = ()
    duration_s: float = 30.0
    per_session: int = 10            # N-MNIST samples per stream
    limit: int | None = None         # use only the first N samples / files (quick runs)
    holdout: int = 0                 # N-MNIST training samples kept out as split "val"

    @property
    def sensor(self) -> Resolution:
        return {"nmnist": NMNIST_SENSOR, "dvsgesture": DVS_GESTURE_SENSOR,
                "sim": SIM_SENSOR}.get(self.kind, SIM_SENSOR)

    @property
    def class_names(self) -> tuple[str, ...]:
        return NMNIST_CLASSES if self.kind == "nmnist" else DVS_GESTURE_CLASSES

    def describe(self) -> dict:
        out: dict = {"dataset": self.kind}
        if self.path is not None:
            out["path"] = str(self.path)
        if self.paths:
            out["files"] = [p.name for p in self.paths]
        if self.kind == "sim":
            out.update(seeds=_ranges_text(self.seeds), sessions=len(self.seeds),
                       duration_s=self.duration_s, sensor=str(SIM_SENSOR),
                       simulator_code=simulator_fingerprint())
        if self.kind == "nmnist":
            out["samples_per_stream"] = self.per_session
        if self.limit is not None:
            out["limit"] = self.limit
        if self.holdout:
            out["holdout"] = self.holdout
        return out


def parse_data_spec(text: str) -> DataSpec:
    """``kind:rest`` -> :class:`DataSpec` (see the module docstring)."""
    kind, sep, rest = text.partition(":")
    if not sep:
        raise DataSpecError(f"data spec {text!r} has no kind: expected nmnist:PATH, "
                            "dvsgesture:PATH, sim:seeds=A-B[,duration=S] or files:PATH[,PATH]")
    if kind == "sim":
        options = _options(text, rest)
        if "seeds" not in options:
            raise DataSpecError(f"data spec {text!r}: sim needs seeds=A-B (e.g. sim:seeds=0-63)")
        unknown = sorted(set(options) - {"seeds", "duration"})
        if unknown:
            raise DataSpecError(f"data spec {text!r}: unknown sim options {unknown}")
        return DataSpec("sim", seeds=_parse_ranges(options["seeds"], text),
                        duration_s=float(options.get("duration", 30.0)))
    if kind in ("nmnist", "dvsgesture"):
        path_text, _, opt_text = rest.partition(",")
        options = _options(text, opt_text) if opt_text else {}
        allowed = {"per_session", "limit"} | ({"holdout"} if kind == "nmnist" else set())
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise DataSpecError(f"data spec {text!r}: unknown options {unknown}; "
                                f"{kind} takes {sorted(allowed)}")
        path = Path(path_text).expanduser()
        if not path.is_dir():
            raise DataSpecError(f"data spec {text!r}: {path} is not a directory")
        holdout = int(options.get("holdout", 0))
        if holdout < 0:
            raise DataSpecError(f"data spec {text!r}: holdout must be >= 0, got {holdout}")
        return DataSpec(kind, path=path, per_session=int(options.get("per_session", 10)),
                        limit=int(options["limit"]) if "limit" in options else None,
                        holdout=holdout)
    if kind == "files":
        paths = tuple(Path(p).expanduser() for p in rest.split(",") if p)
        missing = [str(p) for p in paths if not p.is_file()]
        if not paths or missing:
            raise DataSpecError(f"data spec {text!r}: files not found: {missing or '(none given)'}")
        return DataSpec("files", paths=paths)
    raise DataSpecError(f"data spec {text!r}: unknown kind {kind!r}; expected nmnist, "
                        "dvsgesture, sim or files")


def _options(spec: str, text: str) -> dict[str, str]:
    out = {}
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise DataSpecError(f"data spec {spec!r}: option {item!r} is not key=value")
        out[key.strip()] = value.strip()
    return out


def _parse_ranges(text: str, spec: str) -> tuple[int, ...]:
    """``0-63`` or ``1000-1003+2000`` -> seeds."""
    seeds: list[int] = []
    for part in text.split("+"):
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part.strip())
        if not m:
            raise DataSpecError(f"data spec {spec!r}: seeds {text!r} is not A-B[+C-D]")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise DataSpecError(f"data spec {spec!r}: seed range {part!r} runs backwards")
        seeds.extend(range(lo, hi + 1))
    return tuple(seeds)


def _ranges_text(seeds: Sequence[int]) -> str:
    if not seeds:
        return ""
    parts, start, prev = [], seeds[0], seeds[0]
    for s in [*seeds[1:], None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        parts.append(f"{start}-{prev}" if prev != start else str(start))
        if s is not None:
            start = prev = s
    return "+".join(parts)


# ---- binning with a cache ---------------------------------------------------------------------
def _cache_key(item: str, binning: BinningConfig, code: str = "") -> str:
    raw = json.dumps({"item": item, "binning": binning.as_dict(), "code": code, "v": 1},
                     sort_keys=True)
    return hashlib.sha1(raw.encode()).hexdigest()[:20]


# The simulator modules that decide what a session contains (not how it is written or served).
SIMULATION_MODULES = ("body", "config", "dvs", "gestures", "render", "script", "simulator")


@functools.cache
def simulator_fingerprint() -> str:
    """Digest of the simulator's source as imported by this process, so that cached sessions
    of an older simulator are never mistaken for what the current one makes."""
    import live_snn.sim
    import live_snn.sim.simulator  # noqa: F401  (the code the digest stands for, loaded now)

    digest = hashlib.sha1()
    folder = Path(live_snn.sim.__file__).parent
    for path in sorted(folder / f"{name}.py" for name in SIMULATION_MODULES):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _save_session(path: Path, s: LabelledSession) -> None:
    segs = torch.tensor([[g.label, g.start, g.end] for g in s.segments],
                        dtype=torch.int64).reshape(-1, 3)
    tmp = path.with_name(path.name + ".tmp")
    save_file({"frames": s.frames.contiguous(), "labels": s.labels, "since": s.since_onset,
               "segments": segs}, str(tmp), metadata={"name": s.name, "dt_us": str(s.dt_us)})
    tmp.replace(path)


def _load_session(path: Path) -> LabelledSession:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as fh:
        meta = fh.metadata()
    t = load_file(str(path))
    return LabelledSession(meta["name"], t["frames"], t["labels"], t["since"],
                           tuple(Segment(*map(int, row)) for row in t["segments"].tolist()),
                           int(meta["dt_us"]))


def bin_session(name: str, events: EventBatch, track: LabelTrack | None,
                binning: BinningConfig, *, t0_us: int, t_end_us: int) -> LabelledSession:
    binned = bin_events(events, binning, t0_us=t0_us, t_end_us=t_end_us)
    return session_from_frames(name, binned.frames, binned.t_start, track, binning.dt_us)


# ---- simulated gestures --------------------------------------------------------------------
def _sim_session(args: tuple[int, float, dict]) -> LabelledSession:
    from live_snn.sim.config import SimConfig
    from live_snn.sim.simulator import GestureSimulator

    seed, duration_s, binning_dict = args
    binning = BinningConfig.from_dict(binning_dict)
    torch.set_num_threads(1)
    sim = GestureSimulator(SimConfig(seed=seed)).session(duration_s=duration_s)
    events = sim.events.slice_time(sim.start_us, sim.end_us)
    return bin_session(f"sim-seed{seed}", events, sim.labels, binning,
                       t0_us=sim.start_us, t_end_us=sim.end_us)


def load_sim(spec: DataSpec, binning: BinningConfig, *, cache_dir: Path | None,
             workers: int = 1) -> list[LabelledSession]:
    jobs, out = [], {}
    code = simulator_fingerprint()
    for seed in spec.seeds:
        key = _cache_key(f"sim:{seed}:{spec.duration_s}", binning, code)
        cached = cache_dir / f"{key}.safetensors" if cache_dir else None
        if cached is not None and cached.is_file():
            out[seed] = _load_session(cached)
        else:
            jobs.append((seed, cached))
    if jobs:
        args = [(seed, spec.duration_s, binning.as_dict()) for seed, _ in jobs]
        if workers > 1:
            with ProcessPoolExecutor(workers) as pool:
                made = list(pool.map(_sim_session, args))
        else:
            made = [_sim_session(a) for a in args]
        for (seed, cached), session in zip(jobs, made, strict=True):
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                _save_session(cached, session)
            out[seed] = session
    return [out[s] for s in spec.seeds]


def sim_binning(dt_us: int, model: Resolution) -> BinningConfig:
    return BinningConfig(dt_us=dt_us, sensor=SIM_SENSOR, model=model)


def with_sensor(binning: BinningConfig, sensor: Resolution) -> BinningConfig:
    """The checkpoint's binning for another sensor: same dt and model size, the crop and
    downscale worked out for that sensor unless the checkpoint fixed them for its own."""
    if binning.sensor == sensor:
        return binning
    return replace(binning, sensor=sensor, crop=None, downscale=None)


def load_sessions(spec: DataSpec, binning: BinningConfig, *, split: str = "train",
                  cache_dir: Path | None = None, workers: int = 1, seed: int = 0
                  ) -> list[LabelledSession]:
    """Every session of ``spec`` (``split`` = "train" | "test" for the data sets that have
    an official split; "val" for the samples that ``holdout`` keeps out of "train"), binned
    with ``binning`` adapted to the data's sensor."""
    if split == "val" and not spec.holdout:
        raise DataSpecError(f"split 'val' needs a held-out part: add holdout=N to the "
                            f"{spec.kind} data spec")
    binning = with_sensor(binning, spec.sensor)
    if spec.kind == "sim":
        return load_sim(spec, binning, cache_dir=cache_dir, workers=workers)
    if spec.kind == "nmnist":
        from live_snn.train.datasets_real import load_nmnist

        return load_nmnist(spec, binning, split=split, seed=seed)
    if spec.kind == "dvsgesture":
        from live_snn.train.datasets_real import load_dvs_gesture

        return load_dvs_gesture(spec, binning, split=split, cache_dir=cache_dir)
    if spec.kind == "files":
        from live_snn.train.datasets_real import load_files

        return load_files(spec, binning)
    raise DataSpecError(f"unknown data kind {spec.kind!r}")


def nmnist_clip_sessions(clips: Sequence[torch.Tensor], labels: Sequence[int], dt_us: int,
                         *, per_session: int, seed: int, prefix: str) -> list[LabelledSession]:
    """Shuffle (seeded) and lay ``per_session`` clips end to end per stream."""
    order = np.random.default_rng(seed).permutation(len(clips))
    return [
        concat_clips(f"{prefix}-{i // per_session}", [clips[j] for j in order[i:i + per_session]],
                     [int(labels[j]) for j in order[i:i + per_session]], dt_us)
        for i in range(0, len(order), per_session)
    ]
