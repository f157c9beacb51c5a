"""``live-snn bench binning``: events/s for decoding real AEDAT4 recordings, for decoding and
binning them, and for binning alone, side by side with ``tonic.transforms.ToFrame`` (what a
user would otherwise write) on the same events, in the same run, single-threaded.

The DVS128 recordings of the shared data set are replayed back to back (timestamps shifted
so time keeps running) until ``--events`` events have been decoded: packet by packet as a
live source delivers them (``getNextEventBatch``), or one whole recording per call
(``getEventsTimeRange``), the fastest way dv-processing offers to read a file. A last row
times the part of binning that no event-side speed-up can remove: allocating the float32
frames and touching each of their memory pages once.

Two more decode rows compare AEDAT4 readers (issue #16): faery's decoder (Rust, in this
process), and live_snn's own ``Aedat4Source`` (dv-processing in a watched child process, what
``run`` and ``gui`` use today). faery's events are checked against dv-processing's on every
recording before timing.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from live_snn.bench.binning_report import DVS128, Row, report
from live_snn.binning import Binner, BinningConfig, bin_events
from live_snn.errors import LiveSnnError, SourceError
from live_snn.events import EventBatch, Resolution

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RECORDINGS = REPO_ROOT.parent / "shared" / "data" / "recordings"
GAP_US = 1_000  # pause between two replayed recordings


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

    def __init__(self, paths: list[Path], n_events: int, limit: int | None = None,
                 decoder: str = "dv"):
        self.paths, self.n_events, self.limit = paths, n_events, limit
        self.decoded, self.offset = 0, 0
        self.decoder = decoder  # "dv" (dv-processing) or "faery"

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
        shift = None
        for batch in (_faery_packets(path) if self.decoder == "faery" else _dv_packets(path)):
            if self.decoded >= self.n_events:
                return
            if len(batch) == 0:
                continue
            t = batch.events["t"]
            if shift is None:
                shift = self.offset - int(t[0])
            t += shift  # in place: from_dv_numpy made our own copy
            self.decoded += len(batch)
            self.offset = int(t[-1]) + GAP_US
            yield batch


def _dv_packets(path: Path) -> Iterator[EventBatch]:
    import dv_processing as dv

    reader = dv.io.MonoCameraRecording(str(path))
    while (store := reader.getNextEventBatch()) is not None:
        yield EventBatch.from_dv_numpy(store.numpy(), DVS128)


def _faery_packets(path: Path) -> Iterator[EventBatch]:
    """faery's AEDAT4 decoder, packet by packet, the events track only."""
    from faery.extension import aedat

    with aedat.Decoder(str(path)) as decoder:
        for track, packet in decoder:
            if track.data_type == "events":
                yield EventBatch.from_arrays(packet["t"], packet["x"], packet["y"], packet["on"],
                                             DVS128)


def _faery_matches_dv(paths: list[Path]) -> bool:
    """faery and dv-processing decode every recording to the very same events."""
    for path in paths:
        ours = [b.events for b in _faery_packets(path)]
        theirs = [b.events for b in _dv_packets(path)]
        if not np.array_equal(np.concatenate(ours), np.concatenate(theirs)):
            return False
    return True


def _child_decode(sources: dict, paths: list[Path], n_events: int) -> int:
    """live_snn's Aedat4Source (dv-processing in its watched child; each child started
    beforehand), whole recordings replayed from their start until ``n_events``."""
    decoded = 0
    while decoded < n_events:
        for path in paths:
            if decoded >= n_events:
                break
            source = sources[path]
            source.seek(source.start_us)
            decoded += sum(len(batch) for batch in source)
    return decoded


def _best_of_rounds(
    repeats: int, stages: dict[str, tuple[str, Callable[[], int]]]
) -> dict[str, Row]:
    """Each stage's best of ``repeats`` runs (by wall clock). The runs go in rounds, every
    stage once per round, so that on a shared machine all stages meet the same spells of
    load rather than one stage getting a quiet minute and the next a busy one."""
    best: dict[str, Row] = {}
    for round_index in range(repeats):
        for key, (stage, work) in stages.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            events = work()
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            if key not in best or seconds < best[key].seconds:
                best[key] = Row(stage, events, seconds, cpu)
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


def _stages(paths: list[Path], n: int, total: int, *, batches: list[EventBatch],
            chunks: list[EventBatch], bins_per_chunk: list[int], dt_us: int,
            config_128: BinningConfig, config_64: BinningConfig, children: dict,
            ) -> dict[str, tuple[str, Callable[[], int]]]:
    """Every timed stage: key -> (the row's name, the work, which returns events done)."""
    return {
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
        "decode_faery": (
            "decode only: faery AEDAT4 packets (Rust, this process) → EventBatch",
            lambda: sum(len(b) for b in _Replay(paths, n, decoder="faery").batches()),
        ),
        "decode_child": (
            "decode only: live_snn Aedat4Source, dv in a watched child (CPU column: this "
            "process only)",
            lambda: _child_decode(children, paths, total),
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
            lambda: _tonic_bin(chunks, dt_us),
        ),
        "floor": (
            "floor: allocate the 128x128 frames and touch each page, no events",
            lambda: _output_floor(bins_per_chunk, config_128),
        ),
    }


def run(args: argparse.Namespace) -> int:
    try:
        import tonic  # noqa: F401  (fail before the long measurements)
    except ImportError:
        raise LiveSnnError("the binning benchmark compares with tonic: pip install tonic") from None
    import torch

    from live_snn.bench.report import write_section

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

    faery_same = _faery_matches_dv(paths)
    if not faery_same:
        raise LiveSnnError("faery and dv-processing decoded different events")

    from live_snn.sources.aedat4 import Aedat4Source

    children = {path: Aedat4Source(path) for path in paths}
    try:
        stages = _stages(paths, n, total, batches=batches, chunks=chunks,
                         bins_per_chunk=bins_per_chunk, dt_us=dt, config_128=config_128,
                         config_64=config_64, children=children)
        best = _best_of_rounds(repeats, stages)
    finally:
        for source in children.values():
            source.close()
    rows = list(best.values())
    for row in rows:
        rate = f"{row.rate / 1e6:.1f} M events/s" if row.events else f"{row.seconds:.3f} s"
        print(f"  {row.stage}: {rate}")

    markdown = report(
        best, repeats=repeats, load=(load_before, os.getloadavg()[0]), total=total,
        recordings=len(paths), replayed=len(chunks), dt_us=dt, n_bins=n_bins,
        n_pushes=len(batches), identical=identical, faery_same=faery_same,
    )
    print()
    print(markdown)
    if args.write_docs:
        print(f"\nwritten to {write_section('binning', markdown)}")
    return 0 if identical else 1
