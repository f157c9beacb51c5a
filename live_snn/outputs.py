"""Where results go: every output is checked before any work starts, and a finished artefact
appears whole under its name or not at all.

* :func:`check_outputs` refuses, naming the option, an output that resolves to an input (the
  recording, the checkpoint) or to another output, an existing recording (unless the caller
  allows overwriting it), a folder, a missing folder, or a folder that cannot take a new file
  (read-only, full, ``/proc``): a probe file is created and removed there, because a
  permission check says nothing to root or about a full disk.
* :func:`atomic_output` hands out a temporary name beside the target and renames it into
  place only when the writer finished; on failure the temporary file is removed and an
  :class:`OutputError` names the target and the system's reason.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from live_snn.errors import LiveSnnError

# A file starting like this is an event recording (AEDAT 2, 3.1, 4), whatever its name.
RECORDING_MAGIC = b"#!AER-DAT"
RECORDING_SUFFIXES = (".aedat4", ".aedat", ".bin", ".raw", ".dat", ".es", ".npy", ".h5", ".hdf5")


class OutputError(LiveSnnError):
    """An output cannot be written where it was asked for, or would destroy an input."""


@dataclass(frozen=True)
class NamedPath:
    """A path and how the user named it (``--jsonl``, ``the recording``), for messages."""

    label: str
    path: Path


def named(label: str, path: str | os.PathLike | None) -> NamedPath | None:
    return None if path is None else NamedPath(label, Path(path).expanduser())


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same inode when both exist (links, hard links,
    ``..``), else the same resolved path."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return _resolved(a) == _resolved(b)


def is_recording(path: Path) -> bool:
    """An existing file that holds (or is named like) an event recording."""
    if not path.is_file():
        return False
    if path.suffix.lower() in RECORDING_SUFFIXES:
        return True
    try:
        with path.open("rb") as f:
            return f.read(len(RECORDING_MAGIC)) == RECORDING_MAGIC
    except OSError:
        return False


def check_outputs(
    outputs: Sequence[NamedPath | None],
    *,
    inputs: Sequence[NamedPath | None] = (),
    overwrite: bool = False,
) -> None:
    """Refuse, before anything is read or written, any output that would destroy an input
    or another output, replace a recording without ``overwrite``, or cannot be created."""
    outs = [o for o in outputs if o is not None]
    ins = [i for i in inputs if i is not None and i.path.exists()]
    for k, out in enumerate(outs):
        for source in ins:
            if same_file(out.path, source.path):
                raise OutputError(
                    f"{out.label} {out.path} is {source.label} ({source.path}): refusing to "
                    "write over an input; choose another file name"
                )
        for other in outs[:k]:
            if same_file(out.path, other.path):
                raise OutputError(
                    f"{out.label} {out.path} and {other.label} {other.path} are the same "
                    "file: each output needs its own name"
                )
        if not overwrite and is_recording(out.path):
            raise OutputError(
                f"{out.label} {out.path} is an existing recording: refusing to replace it "
                "(choose another name, or pass --overwrite)"
            )
        check_writable(out)


def check_writable(out: NamedPath) -> None:
    """``out.path`` can be created: not a folder, in an existing folder that takes files."""
    path = out.path
    if path.is_dir():
        raise OutputError(f"{out.label} {path}: it is a folder, expected a file name")
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{out.label} {path}: {folder} is not a folder")
    if not folder.is_dir():
        raise OutputError(f"{out.label} {path}: folder {folder} does not exist")
    probe = folder / f".{path.name}.probe-{os.getpid()}"
    try:
        with probe.open("wb") as f:
            f.write(b"\0")
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise OutputError(
            f"{out.label} {path}: cannot create files in {folder}: {_reason(exc)}"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


def temporary_name(path: Path) -> Path:
    """A hidden name beside ``path`` with the same suffix (some writers choose the format
    by it)."""
    return path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, what: str = "output") -> Iterator[Path]:
    """``with atomic_output(path) as tmp: write(tmp)``: ``path`` appears, complete, when the
    block ends without an error; otherwise ``tmp`` is removed and an :class:`OutputError`
    (for an ``OSError``) names ``path``."""
    path = Path(path)
    tmp = temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OutputError(f"cannot write the {what} to {path}: {_reason(exc)}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text_atomic(path: str | os.PathLike, text: str, what: str = "output") -> Path:
    path = Path(path)
    with atomic_output(path, what) as tmp, tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    return path


def _resolved(path: Path) -> Path:
    try:
        return path.resolve(strict=False)
    except (OSError, RuntimeError):
        return path.absolute()


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__
