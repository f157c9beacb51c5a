"""``live-snn bench binning``: events/s for decoding real AEDAT4 recordings, for decoding and
binning them, and for binning alone, side by side with ``tonic.transforms.ToFrame`` (what a
user would otherwise write) on the same events, in the same run, single-threaded.

The DVS128 recordings of the shared data set are replayed back to back (timestamps shifted
so time keeps running) until ``--events`` events have been decoded: packet by packet as a
live source delivers them (``getNextEventBatch``), or one whole recording per call
(``getEventsTimeRange``), the fastest way dv-processing offers to read a file. A last row
times the part of binning that no event-side speed-up can remove: allocating the float32
frames and touching each of their memory pages once.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from live_snn.binning import Binner, BinningConfig, bin_events
from live_snn.errors import LiveSnnError, SourceError
from live_snn.events import EventBatch, Resolution

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RECORDINGS = REPO_ROOT.parent / "shared" / "data" / "recordings"
DVS128 = Resolution(128, 128)
GAP_US = 1_000  # pause between two replayed recordings
TARGET_EVENTS_PER_S = 50e6
TARGET_SPEEDUP = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--events", type=int, default=10_000_000, help="events to decode (default 10M)"
    )
    parser.add_argument("--dt-us", type=int, default=10_000, help="bin length (default 10000)")
    parser.add_argument(
        "--recordings",
        type=Path,
        default=DEFAULT_RECORDINGS,
        help=f"folder of .aedat4 recordings (default {DEFAULT_RECORDINGS})",
    )
    parser.add_argument("--repeats", type=int, default=3, help="best of N runs (default 3)")
    parser.add_argument(
        "--write-docs", action="store_true", help="write the results into docs/benchmarks.md"
    )


def _dvs128_recordings(folder: Path) -> list[Path]:
    import dv_processing as dv

    if not folder.is_dir():
        raise SourceError(f"no recordings folder at {folder} (pass --recordings DIR)")
    paths = [
        path
        for path in sorted(folder.glob("*.aedat4"))
        if Resolution.of(dv.io.MonoCameraRecording(str(path)).getEventResolution()) == DVS128
    ]
    if not paths:
        raise SourceError(f"no 128x128 (DVS128) .aedat4 recordings in {folder}")
    return paths


class _Replay:
    """Decode ``paths`` over and over with dv-processing until ``n_events`` events, shifting
    timestamps so that each replayed recording follows the previous one."""

    def __init__(self, paths: list[Path], n_events: int, limit: int | None = None):
        self.paths, self.n_events, self.limit = paths, n_events, limit
        self.decoded, self.offset = 0, 0

    def recordings(self) -> Iterator[Iterator[EventBatch]]:
        """One lazy iterator of dv-sized batches per replayed recording."""
        while self.decoded < self.n_events:
            for path in self.paths:
                if self.decoded >= self.n_events:
                    return
                yield self._batches(path)

    def batches(self) -> Iterator[EventBatch]:
        for recording in self.recordings():
            yield from recording

    def whole_recordings(self) -> Iterator[EventBatch]:
        """The same events, one batch per replayed recording, each read with one
        ``getEventsTimeRange`` call (the last one cut to end where :meth:`batches` ends)."""
        import dv_processing as dv

        while self.decoded < self.n_events:
            for path in self.paths:
                if self.decoded >= self.n_events:
                    return
                reader = dv.io.MonoCameraRecording(str(path))
                start, end = reader.getTimeRange()
                batch = EventBatch.from_dv_numpy(
                    reader.getEventsTimeRange(start, end + 1).numpy(), DVS128
                )
                if len(batch) == 0:
                    continue
                if self.limit is not None and self.decoded + len(batch) > self.limit:
                    batch = EventBatch(batch.events[: self.limit - self.decoded], DVS128)
                t = batch.events["t"]
                t += self.offset - int(t[0])
                self.decoded += len(batch)
                self.offset = int(t[-1]) + GAP_US
                yield batch

    def _batches(self, path: Path) -> Iterator[EventBatch]:
        import dv_processing as dv

        reader = dv.io.MonoCameraRecording(str(path))
        shift = None
        while self.decoded < self.n_events and (store := reader.getNextEventBatch()) is not None:
            batch = EventBatch.from_dv_numpy(store.numpy(), DVS128)
            if len(batch) == 0:
                continue
            t = batch.events["t"]
            if shift is None:
                shift = self.offset - int(t[0])
            t += shift  # in place: from_dv_numpy made our own copy
            self.decoded += len(batch)
            self.offset = int(t[-1]) + GAP_US
            yield batch


@dataclass(frozen=True)
class _Row:
    stage: str
    events: int
    seconds: float
    cpu_seconds: float  # process CPU time of the same run: ≈ seconds means one core busy

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def _best_of_rounds(
    repeats: int, stages: dict[str, tuple[str, Callable[[], int]]]
) -> dict[str, _Row]:
    """Each stage's best of ``repeats`` runs (by wall clock). The runs go in rounds, every
    stage once per round, so that on a shared machine all stages meet the same spells of
    load rather than one stage getting a quiet minute and the next a busy one."""
    best: dict[str, _Row] = {}
    for round_index in range(repeats):
        for key, (stage, work) in stages.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            events = work()
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            if key not in best or seconds < best[key].seconds:
                best[key] = _Row(stage, events, seconds, cpu)
        print(f"  round {round_index + 1}/{repeats} done")
    return best


def _stream_bin(batches: Iterable[EventBatch], config: BinningConfig) -> int:
    binner = Binner(config)
    for batch in batches:
        binner.push(batch)
    binner.flush()
    return binner.stats.events_in


def _offline_bin(chunks: Iterable[EventBatch], config: BinningConfig) -> int:
    return sum(bin_events(chunk, config).stats.events_in for chunk in chunks)


def _decode_raw(paths: list[Path], n_events: int) -> int:
    """Decode whole recordings (until ``n_events``) into dv's own arrays, nothing more."""
    import dv_processing as dv

    decoded = 0
    while decoded < n_events:
        for path in paths:
            if decoded >= n_events:
                break
            reader = dv.io.MonoCameraRecording(str(path))
            start, end = reader.getTimeRange()
            decoded += len(reader.getEventsTimeRange(start, end + 1).numpy())
    return n_events


def _output_floor(n_bins: list[int], config: BinningConfig) -> int:
    """Allocate each recording's float32 frames as bin_events does and write one value per
    4 KiB page: the memory cost of the output alone, with no event binned."""
    for n in n_bins:
        frames = np.zeros((n, *config.frame_shape), dtype=np.float32)
        frames.reshape(-1)[::1024] = 1.0
    return 0


def _tonic_frames(chunk: EventBatch, dt_us: int) -> np.ndarray:
    from tonic.transforms import ToFrame

    # end_time = last + 1 µs gives exactly our bins (by default tonic drops the last event
    # when the duration is an exact multiple of the window).
    to_frame = ToFrame(
        sensor_size=(DVS128.width, DVS128.height, 2),
        time_window=dt_us,
        include_incomplete=True,
        end_time=chunk.t_last + 1,
    )
    return to_frame(chunk.events)


def _tonic_bin(chunks: list[EventBatch], dt_us: int) -> int:
    for chunk in chunks:
        _tonic_frames(chunk, dt_us)
    return sum(len(chunk) for chunk in chunks)


def run(args: argparse.Namespace) -> int:
    try:
        import tonic  # noqa: F401  (fail before the long measurements)
    except ImportError:
        raise LiveSnnError("the binning benchmark compares with tonic: pip install tonic") from None
    import torch

    from live_snn.bench.report import machine_description, write_section

    torch.set_num_threads(1)  # numpy is single-threaded already: one core throughout
    load_before = os.getloadavg()[0]
    paths = _dvs128_recordings(args.recordings)
    n, dt, repeats = args.events, args.dt_us, args.repeats
    config_128 = BinningConfig(dt, DVS128, DVS128)
    config_64 = BinningConfig(dt, DVS128, Resolution(64, 64))

    print(f"decoding {n:,} events from {len(paths)} DVS128 recordings in {args.recordings} …")
    recordings = [p for p in map(list, _Replay(paths, n).recordings()) if p]
    # One chunk per replayed recording: the unit a data loader hands to a transform.
    chunks = [EventBatch.concatenate(parts) for parts in recordings]
    batches = [batch for parts in recordings for batch in parts]
    total = sum(len(b) for b in batches)

    # Same frames, checked before timing: our offline binning vs tonic on every recording.
    identical, bins_per_chunk = True, []
    for chunk in chunks:
        ours = bin_events(chunk, config_128).frames
        identical &= np.array_equal(ours, _tonic_frames(chunk, dt))
        bins_per_chunk.append(len(ours))
    n_bins = sum(bins_per_chunk)
    # Whole-recording reads must give the very same events as packet-by-packet reads.
    wholes = list(_Replay(paths, n, limit=total).whole_recordings())
    same_events = len(wholes) == len(chunks) and all(
        np.array_equal(a.events, b.events) for a, b in zip(wholes, chunks, strict=True)
    )
    del wholes
    if not same_events:
        raise LiveSnnError("getEventsTimeRange and getNextEventBatch decoded different events")

    stages: dict[str, tuple[str, Callable[[], int]]] = {
        "decode": (
            "decode only: dv packets (getNextEventBatch) → EventBatch",
            lambda: sum(len(b) for b in _Replay(paths, n).batches()),
        ),
        "decode_whole": (
            "decode only: dv whole recordings (getEventsTimeRange) → EventBatch",
            lambda: sum(len(b) for b in _Replay(paths, n, limit=total).whole_recordings()),
        ),
        "decode_raw": (
            "decode only, raw: dv whole recordings, EventStore.numpy() (no EventBatch)",
            lambda: _decode_raw(paths, total),
        ),
        "decode_bin": (
            "decode + bin: Binner.push per dv packet, 128x128",
            lambda: _stream_bin(_Replay(paths, n).batches(), config_128),
        ),
        "decode_bin_64": (
            "decode + bin: Binner.push per dv packet, 64x64 (÷2)",
            lambda: _stream_bin(_Replay(paths, n).batches(), config_64),
        ),
        "decode_bin_whole": (
            "decode + bin: whole recordings (getEventsTimeRange) + bin_events, 128x128",
            lambda: _offline_bin(_Replay(paths, n, limit=total).whole_recordings(), config_128),
        ),
        "stream": (
            "bin only: Binner.push per dv packet, 128x128",
            lambda: _stream_bin(batches, config_128),
        ),
        "stream_64": (
            "bin only: Binner.push per dv packet, 64x64 (÷2)",
            lambda: _stream_bin(batches, config_64),
        ),
        "offline": (
            "bin only: bin_events per recording, 128x128",
            lambda: _offline_bin(chunks, config_128),
        ),
        "offline_64": (
            "bin only: bin_events per recording, 64x64 (÷2)",
            lambda: _offline_bin(chunks, config_64),
        ),
        "tonic": (
            "bin only: tonic ToFrame(time_window) per recording, 128x128",
            lambda: _tonic_bin(chunks, dt),
        ),
        "floor": (
            "floor: allocate the 128x128 frames and touch each page, no events",
            lambda: _output_floor(bins_per_chunk, config_128),
        ),
    }
    best = _best_of_rounds(repeats, stages)
    rows = list(best.values())
    for row in rows:
        rate = f"{row.rate / 1e6:.1f} M events/s" if row.events else f"{row.seconds:.3f} s"
        print(f"  {row.stage}: {rate}")

    lines = [
        f"Machine: {machine_description()}. Single-threaded (numpy; torch set to 1 thread), best "
        f"of {repeats} runs by `time.perf_counter`, with the process CPU time of the same run; "
        f"the runs go in rounds (every stage once per round) so that all stages meet the same "
        f"load. "
        f"Load average while it ran: {load_before:.1f} → {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores: other work shared the cores, so wall-clock rates are lower "
        f"bounds and the per-CPU-second column shows the cost on one core; targets are judged "
        f"on wall clock.",
        "",
        f"Data: {total:,} real events = the {len(paths)} DVS128 recordings of the shared data "
        f"replayed back to back ({len(chunks)} recordings in all), dt = {dt} µs → "
        f"{n_bins:,} bins ({total / max(n_bins, 1):.0f} events per bin on average). Our frames "
        f"are float32 [2, H, W]; tonic's are int16.",
        "",
        "| stage | events | best time (s) | CPU time (s) | M events/s | M events per CPU-s |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {r.stage} | {r.events:,} | {r.seconds:.3f} | {r.cpu_seconds:.3f} | "
            f"{r.rate / 1e6:.1f} | {r.events / r.cpu_seconds / 1e6:.1f} |"
            if r.events
            else f"| {r.stage} | — | {r.seconds:.3f} | {r.cpu_seconds:.3f} | — | — |"
            for r in rows
        ),
        "",
        f"Same frames: live_snn `bin_events` and tonic `ToFrame` gave "
        f"{'identical' if identical else '**DIFFERENT**'} 128x128 frames on every recording.",
        "",
        *_verdicts(
            decodes=(best["decode"], best["decode_whole"], best["decode_raw"]),
            decode_bins=(best["decode_bin"], best["decode_bin_whole"]),
            stream=best["stream"],
            offline=best["offline"],
            offline_64=best["offline_64"],
            tonic=best["tonic"],
            floor=best["floor"],
            n_bins=n_bins,
            n_pushes=len(batches),
        ),
    ]
    markdown = "\n".join(lines)
    print()
    print(markdown)
    if args.write_docs:
        print(f"\nwritten to {write_section('binning', markdown)}")
    return 0 if identical else 1


def _verdicts(
    *,
    decodes: tuple[_Row, _Row, _Row],
    decode_bins: tuple[_Row, _Row],
    stream: _Row,
    offline: _Row,
    offline_64: _Row,
    tonic: _Row,
    floor: _Row,
    n_bins: int,
    n_pushes: int,
) -> list[str]:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    def cpu_rate(row: _Row) -> float:
        return row.events / row.cpu_seconds

    def m(rate: float) -> str:
        return f"{rate / 1e6:.1f}"

    packets, whole, raw = decodes
    best_decode_bin = max(decode_bins, key=lambda r: r.rate)
    best_decode = max((packets, whole), key=lambda r: r.rate)
    conversion = (
        f"dv's decoding without the conversion runs at {m(raw.rate)} ({m(cpu_rate(raw))} per "
        f"CPU-second): converting dv's 16-byte records to our 13-byte ones adds "
        f"{(whole.cpu_seconds - raw.cpu_seconds) / raw.cpu_seconds:.0%} to dv's own CPU time"
    )
    decoding = (
        f"dv-processing reading and decompressing AEDAT4 and the one conversion to EventBatch "
        f"run at {m(packets.rate)} M events/s packet by packet and {m(whole.rate)} reading "
        f"whole recordings with `getEventsTimeRange` (per CPU-second {m(cpu_rate(packets))} "
        f"and {m(cpu_rate(whole))}); {conversion}"
    )
    if best_decode.rate <= TARGET_EVENTS_PER_S:
        decode_bound = f"Decoding alone cannot reach it on this machine: {decoding}."
    else:
        # One core: decoding and binning take turns, so their times add up.
        needed = 1 / (1 / TARGET_EVENTS_PER_S - 1 / best_decode.rate)
        bin_budget = best_decode.events / needed
        binning = max(offline.rate, stream.rate)
        decode_bound = (
            f"On one core decoding and binning take turns: {decoding}. Even at "
            f"{m(best_decode.rate)}, {TARGET_EVENTS_PER_S / 1e6:.0f} M events/s in all would "
            f"need binning at ≥ {m(needed)} M events/s, {bin_budget:.3f} s for these events"
            + (
                f", less than allocating the frames alone takes ({floor.seconds:.3f} s, below)."
                if bin_budget < floor.seconds
                else f"; our binning runs at {m(binning)}."
            )
        )
    speedups = (offline.rate / tonic.rate, stream.rate / tonic.rate)
    cpu_speedups = (cpu_rate(offline) / cpu_rate(tonic), cpu_rate(stream) / cpu_rate(tonic))
    frames_gb = n_bins * 2 * DVS128.width * DVS128.height * 4 / 1e9
    budget = tonic.seconds / TARGET_SPEEDUP
    left = (
        f"of the {budget:.3f} s that {TARGET_SPEEDUP:.0f}× tonic allows, which would leave "
        f"{(budget - floor.seconds) / offline.events * 1e9:.1f} ns per event"
        if budget > floor.seconds
        else f"while {TARGET_SPEEDUP:.0f}× tonic allows {budget:.3f} s in all, which leaves nothing"
    )
    extra_us = (stream.cpu_seconds - offline.cpu_seconds) / n_pushes * 1e6
    pushes = f"{n_pushes:,} pushes here: dv delivers small packets for the sparse recordings"
    stream_cost = (
        f"The streaming `Binner` costs {extra_us:.1f} µs of CPU per push more than "
        f"`bin_events` ({pushes})."
        if extra_us >= 0.5
        else f"The streaming `Binner` costs no more CPU than `bin_events` in all "
        f"({stream.cpu_seconds:.3f} s against {offline.cpu_seconds:.3f}; {pushes})."
    )
    return [
        f"* Target decode + bin ≥ {TARGET_EVENTS_PER_S / 1e6:.0f} M events/s: "
        f"{verdict(best_decode_bin.rate >= TARGET_EVENTS_PER_S)} (best "
        f"{m(best_decode_bin.rate)}, {best_decode_bin.stage.split(': ', 1)[1]}; "
        f"{m(cpu_rate(best_decode_bin))} per CPU-second). {decode_bound}",
        f"* Target ≥ {TARGET_SPEEDUP:.0f}× tonic, binning alone: "
        f"{verdict(min(speedups) >= TARGET_SPEEDUP)} ({speedups[0]:.1f}× for `bin_events`, "
        f"{speedups[1]:.1f}× for the streaming `Binner`; per CPU-second {cpu_speedups[0]:.1f}× "
        f"and {cpu_speedups[1]:.1f}×).",
        f"* What bounds our binning: the output. Each 10 ms bin holds a few hundred events "
        f"but is a dense 2×128×128 float32 frame (128 KiB), {frames_gb:.1f} GB for the "
        f"{n_bins:,} bins; allocating these frames and touching each 4 KiB page once, with no "
        f"event binned, takes {floor.seconds:.3f} s ({floor.cpu_seconds:.3f} CPU-s) {left} "
        f"for the events' own work (a contiguous copy of the timestamps and the order check, "
        f"three int32 table lookups that fold in the range check, crop and downscale, then "
        f"one `np.add.at` over the whole recording); that work takes about "
        f"{(offline.seconds - floor.seconds) / offline.events * 1e9:.1f} ns per event here. "
        f"At 64x64 (4× smaller frames) `bin_events` runs at {m(offline_64.rate)} M "
        f"events/s ({m(cpu_rate(offline_64))} per CPU-second). "
        f"{stream_cost} tonic writes int16 frames (half the bytes) but loops over bins in "
        f"Python with `np.add.at` on 4-D indices.",
    ]
