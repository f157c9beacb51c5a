"""``live-snn bench sim``: cost of the gesture simulator, and of getting its events out.

* Generation: CPU seconds per simulated second (target: well under 1, so training can make
  sessions faster than real time and the live ``sim:`` source keeps up on one core), split
  into rendering, DVS emulation and the rest, at 128x128 and 346x260.
* AEDAT4 writing, side by side in one run: the project's vectorised writer (what
  ``live-snn simulate`` uses) against dv-processing's ``MonoCameraWriter`` fed the only way
  its Python API allows, an ``EventStore`` filled by ``push_back`` (what a user would
  otherwise write). Both files are read back and checked.
* The ``EventStore`` conversion that ``serve-sim`` needs for ``NetworkWriter``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from live_snn.events import EventBatch, Resolution, events_checksum
from live_snn.sim import GestureSimulator, SimConfig
from live_snn.sinks.network_writer import to_dv_event_store
from live_snn.sinks.sim_session import write_aedat4

TARGET_CPU_PER_SIM_S = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="simulated seconds per resolution (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="simulator seed (default 0)")
    parser.add_argument("--write-docs", action="store_true",
                        help="write the results into docs/benchmarks.md")


def _generation(config: SimConfig, seconds: float) -> dict:
    simulator = GestureSimulator(config)
    stream = simulator.stream(chunk_us=100_000)
    cpu, wall = time.process_time(), time.perf_counter()
    batches = []
    while stream.time_us < seconds * 1e6:
        batches.append(next(stream))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    events = EventBatch.concatenate(batches)
    # The same frames again, timing each stage on its own.
    times = config.t0_us + config.subframe_us * np.arange(1, int(seconds * 1e6 / config.subframe_us) + 1)
    again = simulator.stream()
    clock = time.process_time
    start = clock()
    poses = again.script.pose_at(times)
    pose_cpu = clock() - start
    render_cpu = dvs_cpu = 0.0
    previous = config.t0_us
    lights = again.lighting.factor(times).tolist()
    for t, joints, light in zip(times.tolist(), poses, lights, strict=True):
        start = clock()
        image = again.renderer.render(joints)
        middle = clock()
        again.sensor.step(image, previous, t, light)
        render_cpu += middle - start
        dvs_cpu += clock() - middle
        previous = t
    start = clock()
    again.sensor.noise(config.t0_us, int(times[-1]))
    dvs_cpu += clock() - start
    return dict(resolution=config.resolution, seconds=seconds, cpu=cpu, wall=wall, events=events,
                pose=pose_cpu, render=render_cpu, dvs=dvs_cpu)


def _read_back(path: Path, resolution: Resolution) -> str:
    import dv_processing as dv

    recording = dv.io.MonoCameraRecording(str(path))
    parts = []
    while (store := recording.getNextEventBatch()) is not None:
        parts.append(store.numpy())
    return events_checksum(EventBatch.from_dv_numpy(np.concatenate(parts), resolution).events)


def _writers(events: EventBatch, folder: Path) -> dict:
    import dv_processing as dv

    expected = events_checksum(events.events)
    ours_path, theirs_path = folder / "ours.aedat4", folder / "dv.aedat4"
    start = time.perf_counter()
    write_aedat4(events, ours_path)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    config = dv.io.MonoCameraWriter.EventOnlyConfig("DVS128Sim", (events.resolution.width, events.resolution.height))
    writer = dv.io.MonoCameraWriter(str(theirs_path), config)
    for lo in range(0, len(events), 100_000):
        writer.writeEvents(to_dv_event_store(EventBatch(events.events[lo : lo + 100_000], events.resolution)))
    del writer  # closes the file
    theirs = time.perf_counter() - start
    start = time.perf_counter()
    to_dv_event_store(events)
    convert = time.perf_counter() - start
    return dict(
        ours=ours, theirs=theirs, convert=convert,
        ours_ok=_read_back(ours_path, events.resolution) == expected,
        theirs_ok=_read_back(theirs_path, events.resolution) == expected,
        ours_mb=ours_path.stat().st_size / 1e6, theirs_mb=theirs_path.stat().st_size / 1e6,
    )


def run(args: argparse.Namespace) -> int:
    from live_snn.bench.report import machine_description, write_section

    base = SimConfig(seed=args.seed)
    results = [_generation(base, args.seconds),
               _generation(replace(base, resolution=Resolution(346, 260)), args.seconds)]
    with tempfile.TemporaryDirectory() as folder:
        io = _writers(results[0]["events"], Path(folder))

    load = os.getloadavg()[0]
    lines = [
        f"Machine: {machine_description()}; load average {load:.1f} when the run ended "
        "(wall times suffer when the cores are shared, CPU times much less). "
        "Single process; CPU time from `time.process_time`.",
        "",
        "| sensor | simulated | events/s | CPU s per simulated s | wall s per simulated s "
        "| of which render | DVS emulation | poses | target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        per_s = r["cpu"] / r["seconds"]
        lines.append(
            f"| {r['resolution']} | {r['seconds']:g} s | {len(r['events']) / r['seconds']:,.0f} "
            f"| {per_s:.3f} | {r['wall'] / r['seconds']:.3f} | {r['render'] / r['seconds']:.3f} "
            f"| {r['dvs'] / r['seconds']:.3f} | {r['pose'] / r['seconds']:.3f} "
            f"| < {TARGET_CPU_PER_SIM_S:g}: {'met' if per_s < TARGET_CPU_PER_SIM_S else 'NOT met'} |"
        )
    n = len(results[0]["events"])
    lines += [
        "",
        f"Writing the 128x128 run ({n:,} events) to AEDAT4, same run, read back with "
        "dv-processing and checked event for event:",
        "",
        "| path | events/s | file | read back identical |",
        "|---|---|---|---|",
        f"| live_snn vectorised writer (`live-snn simulate`) | {n / io['ours']:,.0f} | "
        f"{io['ours_mb']:.1f} MB (uncompressed) | {io['ours_ok']} |",
        f"| dv `MonoCameraWriter` + `EventStore.push_back` | {n / io['theirs']:,.0f} | "
        f"{io['theirs_mb']:.1f} MB (LZ4) | {io['theirs_ok']} |",
        "",
        f"Speed-up of the vectorised writer: {io['theirs'] / io['ours']:.1f}x. "
        f"`serve-sim` must hand `NetworkWriter` an `EventStore`: that conversion runs at "
        f"{n / io['convert']:,.0f} events/s, in the writer's own process.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write_docs:
        print(f"wrote {write_section('sim', text)}")
    return 0 if all(r["cpu"] / r["seconds"] < TARGET_CPU_PER_SIM_S for r in results) else 1
