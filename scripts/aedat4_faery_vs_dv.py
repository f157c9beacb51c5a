"""AEDAT4 through faery vs live_snn's Aedat4Source (dv-processing in a watched child), on a
real recording and four damaged copies of it (issue #16, point 4): events read, time, and
what each says. Each reader runs in its own process with a 30 s limit, so a spin shows as a
timeout. Usage: python scripts/aedat4_faery_vs_dv.py RECORDING.aedat4"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

FAERY = """
import sys, time
from faery.extension import aedat
t = time.perf_counter(); n = 0
try:
    with aedat.Decoder(sys.argv[1]) as d:
        for track, packet in d:
            if track.data_type == "events":
                n += len(packet)
    said = "ok"
except BaseException as exc:
    said = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:150]
print(f"{n}\\t{(time.perf_counter() - t) * 1e3:.0f}\\t{said}")
"""
OURS = """
import sys, time
from live_snn.errors import LiveSnnError
from live_snn.sources.spec import open_recording
t = time.perf_counter(); n = 0
try:
    with open_recording(sys.argv[1]) as s:
        for b in s:
            n += len(b)
    said = "ok"
except LiveSnnError as exc:
    said = str(exc).split(": ", 1)[-1][:150]
print(f"{n}\\t{(time.perf_counter() - t) * 1e3:.0f}\\t{said}")
"""


def damaged(src: Path, folder: Path) -> dict[str, Path]:
    data = src.read_bytes()
    copies = {"intact": data, "truncated": data[: len(data) * 3 // 5],
              "flipped bytes": data[: len(data) // 2] + bytes(b ^ 0xFF for b in
                                                              data[len(data) // 2:][:64])
              + data[len(data) // 2 + 64:],
              "bad header": data[:20] + b"\xff" * 40 + data[60:], "empty": b""}
    out = {}
    for name, content in copies.items():
        path = folder / f"{name.replace(' ', '_')}.aedat4"
        path.write_bytes(content)
        out[name] = path
    return out


def run(code: str, path: Path) -> str:
    try:
        done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                              text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "—\t30000\tTIMEOUT (spun)"
    if done.returncode != 0 or not done.stdout.strip():
        return f"—\t—\tCRASH rc={done.returncode}"
    return done.stdout.strip().splitlines()[-1]


def main() -> int:
    src = Path(sys.argv[1])
    print(f"{src.name}: faery vs live_snn Aedat4Source (time includes opening; ms)")
    print("| file | faery events | faery ms | faery says | live_snn events | live_snn ms | "
          "live_snn says |\n|---|---:|---:|---|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in damaged(src, Path(tmp)).items():
            f = run(FAERY, path).split("\t")
            o = run(OURS, path).split("\t")
            o[2] = o[2].replace(str(path), "FILE")
            print(f"| {name} | {f[0]} | {f[1]} | {f[2]} | {o[0]} | {o[1]} | {o[2]} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
