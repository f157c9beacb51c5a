"""What data a run trains or evaluates on: the ``--data`` / ``--val-data`` specs.

Each spec names a data set that :mod:`live_snn.train.loaders` turns into
:class:`~live_snn.train.sessions.LabelledSession` s with the live binner. Specs:

* ``nmnist:PATH`` — N-MNIST, original layout (``PATH/Train/<digit>/*.bin``, ``PATH/Test/...``).
  Each sample is binned on its own from t = 0 to a fixed length, then ``per_session`` samples
  in a seeded random order are laid end to end into one stream (a digit after a digit).
  ``nmnist:PATH,holdout=N`` keeps N training samples (the same ones for every run) out of
  training as split ``val``, so that epochs and settings are picked without the test set.
* ``dvsgesture:PATH`` — DVS128 Gesture, IBM layout (``user*.aedat`` + ``*_labels.csv``,
  ``trials_to_train.txt`` / ``trials_to_test.txt``): each file is one session as recorded.
* ``sim:seeds=0-63,duration=30`` — sessions of the gesture simulator, one per seed
  (128×128 sensor), generated in ``workers`` processes.
* ``files:PATH[,PATH...]`` — AEDAT4 recordings, or folders of them (labels only if the
  source has some).
* ``teach:DIR[,DIR...]`` — taught sessions (``live-snn teach record``, the window's Teach
  mode): each folder one session, its classes named in its ``teach.json``.

A simulated data set is described with a digest of the simulator's code
(:func:`simulator_fingerprint`), so that sessions of an older simulator are told apart.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from live_snn.classes import DVS_GESTURE_CLASSES, NMNIST_CLASSES
from live_snn.errors import LiveSnnError
from live_snn.events import Resolution

SIM_SENSOR = Resolution(128, 128)
NMNIST_SENSOR = Resolution(34, 34)
DVS_GESTURE_SENSOR = Resolution(128, 128)


class DataSpecError(LiveSnnError):
    """A ``--data`` spec that cannot be understood or whose data is missing."""


@dataclass(frozen=True)
class DataSpec:
    kind: str                        # "nmnist" | "dvsgesture" | "sim" | "files" | "teach"
    path: Path | None = None
    paths: tuple[Path, ...] = ()
    seeds: tuple[int, ...] = ()
    duration_s: float = 30.0
    per_session: int = 10            # N-MNIST samples per stream
    limit: int | None = None         # use only the first N samples / files (quick runs)
    holdout: int = 0                 # N-MNIST training samples kept out as split "val"
    classes: tuple[str, ...] = ()    # teach: the folders' class names

    @property
    def sensor(self) -> Resolution:
        return {"nmnist": NMNIST_SENSOR, "dvsgesture": DVS_GESTURE_SENSOR,
                "sim": SIM_SENSOR}.get(self.kind, SIM_SENSOR)

    @property
    def class_names(self) -> tuple[str, ...]:
        if self.kind == "teach":
            return self.classes
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
        paths = _expand_folders(text, [Path(p).expanduser() for p in rest.split(",") if p])
        missing = [str(p) for p in paths if not p.is_file()]
        if not paths or missing:
            raise DataSpecError(f"data spec {text!r}: files not found: {missing or '(none given)'}")
        return DataSpec("files", paths=paths)
    if kind == "teach":
        return _teach_spec(text, rest)
    raise DataSpecError(f"data spec {text!r}: unknown kind {kind!r}; expected nmnist, "
                        "dvsgesture, sim, files or teach")


def _teach_spec(text: str, rest: str) -> DataSpec:
    from live_snn.sinks.teach_folder import read_teach_folder, union_class_names

    paths = tuple(Path(p).expanduser() for p in rest.split(",") if p)
    if not paths:
        raise DataSpecError(f"data spec {text!r}: name at least one taught session folder")
    folders = [read_teach_folder(p) for p in paths]
    return DataSpec("teach", paths=paths, classes=union_class_names(folders))


def _expand_folders(spec: str, paths: list[Path]) -> tuple[Path, ...]:
    """A folder stands for the AEDAT4 recordings in it, in name order."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.aedat4"))
            if not found:
                raise DataSpecError(f"data spec {spec!r}: folder {path} holds no .aedat4 "
                                    "recordings")
            out.extend(found)
        else:
            out.append(path)
    return tuple(out)


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


# The simulator modules that decide what a session contains (not how it is written or served).
@functools.cache
def simulator_fingerprint() -> str:
    """Digest of the simulator's source as imported by this process, so that cached sessions
    of an older simulator are never mistaken for what the current one makes."""
    import live_snn.sim
    import live_snn.sim.simulator  # noqa: F401  (the code the digest stands for, loaded now)

    digest = hashlib.sha1()
    folder = Path(live_snn.sim.__file__).parent
    for path in sorted(folder.glob("*.py")):  # sim/ is the generator and nothing else
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
