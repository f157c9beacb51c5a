"""What the commands say about one mutated file, held against each other and against
dv-processing's own decode (run in a child of its own: dv-processing may crash or spin on
a damaged file).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from live_snn.bench.fuzz_report import REPO_ROOT, FuzzReport

REFERENCE_CODE = """
import sys, numpy as np, dv_processing as dv
from live_snn.events import EVENT_DTYPE, events_checksum
r = dv.io.MonoCameraRecording(sys.argv[1])
parts = []
while (s := r.getNextEventBatch()) is not None:
    if not s.isEmpty():
        d = s.numpy(); e = np.empty(len(d), EVENT_DTYPE)
        e["t"], e["x"], e["y"], e["p"] = d["timestamp"], d["x"], d["y"], d["polarity"]
        parts.append(e)
ev = np.concatenate(parts) if parts else np.empty(0, EVENT_DTYPE)
print(len(ev), events_checksum(ev))
"""


def reference_decode(path: Path, timeout_s: float = 4.0) -> tuple[int, str] | None:
    """dv-processing's own sequential decode (count, checksum), or None where it crashes,
    spins or refuses."""
    try:
        done = subprocess.run([sys.executable, "-c", REFERENCE_CODE, str(path)], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return None
    count, checksum = done.stdout.split()
    return int(count), checksum


def damage_key(text: str, path: Path) -> str:
    """What the output says is wrong with ``path``: the text after its name up to '; the'."""
    at = text.find(f"{path}: ")
    if at < 0:
        return "unexplained: " + text.strip().splitlines()[-1][:200] if text.strip() else "silent"
    rest = text[at + len(str(path)) + 2:].splitlines()[0]
    return rest.split("; the ")[0].split("; live_snn reads")[0].strip()


def file_verdict(command: str, answer: dict, path: Path, summary: Path) -> tuple[str, str | None]:
    """("good:N" | damage text | "n/a", checksum of what was written, for record)."""
    rc, out, err = answer["rc"], answer["out"], answer["err"]
    if command == "info":
        if rc == 0:
            return f"good:{json.loads(out.splitlines()[0])['events']}", None
        return damage_key(err, path), None
    if command == "run":
        if rc == 0:
            return f"good:{json.loads(summary.read_text())['events_in']}", None
        if "--allow-remap" in err or "cannot be mapped" in err:
            return "n/a", None
        return damage_key(err, path), None
    verified = re.search(r"verified: read back (\d+) events, checksum (\w+)", out)
    if rc == 0 and verified:
        return f"good:{verified.group(1)}", verified.group(2)
    return damage_key(out + err, path), verified.group(2) if verified else None



def check_verdicts(label: str, verdicts: dict[str, str], written: str | None,
                   reference: tuple[int, str] | None, report: FuzzReport) -> None:
    """Record in ``report`` what the commands' verdicts on one damaged file get wrong:
    commands that disagree, or events said good that differ from dv-processing's."""
    seen = {v for v in verdicts.values() if v != "n/a"}
    if len(seen) > 1:
        report.disagreements.append(f"{label}: " + "; ".join(f"{c} says {v!r}"
                                                             for c, v in verdicts.items()))
        return
    verdict = next(iter(seen), "n/a")
    if reference is None:
        report.dv_could_not_decode += 1
    if not verdict.startswith("good:"):
        report.damaged_files += 1
        return
    report.good_files += 1
    count = int(verdict.split(":")[1])
    if reference is None:
        report.differs_from_dv.append(f"{label}: called good ({count} events) but "
                                      "dv-processing cannot decode it")
    elif reference[0] != count or (written is not None and written != reference[1]):
        report.differs_from_dv.append(f"{label}: called good with {count} events, "
                                      f"dv-processing decodes {reference[0]}")
