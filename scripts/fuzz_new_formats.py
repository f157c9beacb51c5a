"""Mutated copies of a real recording in each format read through faery (Prophesee RAW EVT
2.0 / 3.0, DAT, Event Stream, CSV), opened and read to the end through live_snn's sources:
each file must end with its events or one CorruptFileError line, never a traceback, a hang
(60 s per format) or a native crash. Usage: python scripts/fuzz_new_formats.py RECORDING N"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import sys
from collections import Counter
from live_snn.errors import LiveSnnError
from live_snn.sources.spec import open_recording
seen = Counter()
for path in sys.argv[1:]:
    try:
        with open_recording(path) as source:
            for _ in source:
                pass
        seen["read whole"] += 1
    except LiveSnnError as exc:
        one_line = "\\n" not in str(exc) and path in str(exc)
        seen["one-line verdict" if one_line else "verdict not one line naming the file"] += 1
    except Exception as exc:
        seen[f"TRACEBACK {type(exc).__name__}: {exc}"[:120]] += 1
print(dict(seen))
"""


def mutate(data: bytes, rng, header: int) -> bytes:
    kind = rng.integers(4)
    body = max(header, 1)
    at = int(rng.integers(body, len(data)))
    if kind == 0:  # cut anywhere
        return data[: int(rng.integers(0, len(data)))]
    if kind == 1:  # flip a few bytes after the header
        out = bytearray(data)
        for i in rng.integers(body, len(data), size=int(rng.integers(1, 16))):
            out[int(i)] ^= int(rng.integers(1, 256))
        return bytes(out)
    if kind == 2:  # a run of random bytes
        n = int(rng.integers(1, 512))
        return data[:at] + rng.integers(0, 256, size=n, dtype="u1").tobytes() + data[at + n:]
    out = bytearray(data)  # damage inside the header
    for i in rng.integers(0, body, size=int(rng.integers(1, 4))):
        out[int(i)] ^= int(rng.integers(1, 256))
    return bytes(out)


def main() -> int:
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "sources"))
    from event_file_writers import write_with_faery

    from live_snn.events import EventBatch
    from live_snn.sources.spec import open_recording

    recording, n = Path(sys.argv[1]), int(sys.argv[2])
    with open_recording(str(recording)) as source:
        events = EventBatch.concatenate(list(source))
    rng = np.random.default_rng(16)
    with tempfile.TemporaryDirectory() as tmp:
        for name, version in (("raw", "evt3"), ("raw", "evt2"), ("dat", None), ("es", None),
                              ("csv", None)):
            clean = write_with_faery(Path(tmp) / f"clean_{version or name}.{name}", events,
                                     raw_version=version or "evt3")
            data = clean.read_bytes()
            header = data.find(b"% end\n") + 6 if name == "raw" else {"dat": 60, "es": 20,
                                                                      "csv": 20}[name]
            paths = []
            for i in range(n):
                path = Path(tmp) / f"m{i}_{version or name}.{name}"
                path.write_bytes(mutate(data, rng, header))
                paths.append(str(path))
            try:
                done = subprocess.run([sys.executable, "-c", CHILD, *paths], capture_output=True,
                                      text=True, timeout=60)
                said = done.stdout.strip() or f"CRASH rc={done.returncode} {done.stderr[-300:]}"
            except subprocess.TimeoutExpired:
                said = "HANG (60 s)"
            print(f"{version or name}: {n} files: {said}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
