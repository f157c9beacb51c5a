"""What ``live-snn bench fuzz`` is asked (:class:`FuzzConfig`, the recordings it mutates)
and what it found (:class:`FuzzReport`), and the table it writes into docs/reliability.md.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RECORDINGS = Path(os.environ.get("LIVE_SNN_SHARED_DATA", REPO_ROOT.parent / "shared" /
                                         "data")) / "recordings"
BASES = ("dvsgesture_sample_01.aedat4", "dvsgesture_sample_02.aedat4", "dvs128_arms_b.aedat4",
         "dvxplorer_person.aedat4", "davis346_mixed_streams.aedat4")
UNCOMPRESSED_BASES = ("dvsgesture_sample_03.aedat4", "dvs128_arms_b.aedat4")
FILE_COMMANDS = ("info", "run", "record")
STREAM_SECONDS = 4  # a live source runs until stopped: each stream command is bounded so
DEFAULT_WORKERS = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1)
DOCS = REPO_ROOT / "docs" / "reliability.md"
MARKERS = ("<!-- fuzz:results -->", "<!-- /fuzz:results -->")


@dataclass(frozen=True)
class FuzzConfig:
    files: int = 200
    streams: int = 50
    seed: int = 0
    timeout_s: float = 60.0
    workers: int = DEFAULT_WORKERS      # worker processes for the files (streams: one more)
    recordings: Path = DEFAULT_RECORDINGS
    work: Path | None = None            # where mutated files go (default: a temporary folder)


@dataclass
class FuzzReport:
    files: int = 0
    streams: int = 0
    jobs: int = 0
    good_files: int = 0
    damaged_files: int = 0
    hangs: list[str] = field(default_factory=list)
    native_crashes: list[str] = field(default_factory=list)
    tracebacks: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    differs_from_dv: list[str] = field(default_factory=list)
    dv_could_not_decode: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0  # user + system, this process and every child it waited for

    @property
    def clean(self) -> bool:
        return not (self.hangs or self.native_crashes or self.tracebacks or self.disagreements
                    or self.differs_from_dv)

    def summary(self) -> str:
        return (f"{self.files} mutated files x {len(FILE_COMMANDS)} commands and {self.streams} "
                f"mutated streams x 2 commands ({self.jobs} runs) in {self.wall_s:.0f} s "
                f"({self.cpu_s:.0f} s of CPU time): "
                f"{len(self.hangs)} hangs, {len(self.native_crashes)} native crashes, "
                f"{len(self.tracebacks)} tracebacks, {len(self.disagreements)} disagreements "
                f"between commands, {len(self.differs_from_dv)} files called good whose events "
                f"differ from dv-processing's decode ({self.good_files} files good, "
                f"{self.damaged_files} named damaged; dv-processing itself could not decode "
                f"{self.dv_could_not_decode})")


def cpu_seconds() -> float:
    """User + system CPU time of this process and of every child it waited for (their
    children included, when they waited for them)."""
    import resource

    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                           resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def write_docs(report: FuzzReport, args: argparse.Namespace) -> None:
    import platform

    lines = [MARKERS[0], "", f"`live-snn bench fuzz --files {args.files} --streams "
             f"{args.streams} --seed {args.seed}` on {platform.machine()} with "
             f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}:", "",
             "| measure | count |", "|---|---|"]
    rows = [("mutated recordings (info, run, record each)", report.files),
            ("mutated network streams (run, record each)", report.streams),
            ("command runs", report.jobs), ("wall time (s)", f"{report.wall_s:.0f}"),
            ("CPU time, all processes (user + sys, s)", f"{report.cpu_s:.0f}"),
            ("files every command called good", report.good_files),
            ("files every command named damaged (the same damage)", report.damaged_files),
            ("files dv-processing itself could not decode", report.dv_could_not_decode),
            ("hangs", len(report.hangs)), ("native crashes", len(report.native_crashes)),
            ("tracebacks", len(report.tracebacks)),
            ("disagreements between commands", len(report.disagreements)),
            ("files called good whose events differ from dv-processing's decode",
             len(report.differs_from_dv))]
    lines += [f"| {name} | {value} |" for name, value in rows] + ["", MARKERS[1]]
    text = DOCS.read_text()
    start, end = text.index(MARKERS[0]), text.index(MARKERS[1]) + len(MARKERS[1])
    DOCS.write_text(text[:start] + "\n".join(lines) + text[end:])
