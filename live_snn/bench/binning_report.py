"""The text of ``live-snn bench binning``'s section of docs/benchmarks.md: the machine and
the data, the table of stages, and the verdicts on the targets with what bounds them."""

from __future__ import annotations

import os
from dataclasses import dataclass

from live_snn.bench.report import machine_description
from live_snn.events import Resolution

DVS128 = Resolution(128, 128)
TARGET_EVENTS_PER_S = 50e6
TARGET_SPEEDUP = 10.0


@dataclass(frozen=True)
class Row:
    stage: str
    events: int
    seconds: float
    cpu_seconds: float  # process CPU time of the same run: ≈ seconds means one core busy

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def report(best: dict[str, Row], *, repeats: int, load: tuple[float, float], total: int,
           recordings: int, replayed: int, dt_us: int, n_bins: int, n_pushes: int,
           identical: bool, faery_same: bool | None = None) -> str:
    """The markdown section. ``best``: each stage's best run by stage key; ``load``: the load
    average before and after; ``recordings`` DVS128 files replayed ``replayed`` times in all
    for ``total`` events, ``n_bins`` bins of ``dt_us``, ``n_pushes`` streaming pushes."""
    cores = os.cpu_count()
    lines = [
        f"Machine: {machine_description()}. Single-threaded (numpy; torch set to 1 thread), best "
        f"of {repeats} runs by `time.perf_counter`, with the process CPU time of the same run; "
        f"the runs go in rounds (every stage once per round) so that all stages meet the same "
        f"load. "
        f"Load average while it ran: {load[0]:.1f} → {load[1]:.1f} on {cores} cores: other "
        f"work shared the cores, so wall-clock rates are lower bounds and the per-CPU-second "
        f"column shows the cost on one core; targets are judged on wall clock.",
        "",
        f"Data: {total:,} real events = the {recordings} DVS128 recordings of the shared data "
        f"replayed back to back ({replayed} recordings in all), dt = {dt_us} µs → "
        f"{n_bins:,} bins ({total / max(n_bins, 1):.0f} events per bin on average). Our frames "
        f"are float32 [2, H, W]; tonic's are int16.",
        "",
        "| stage | events | best time (s) | CPU time (s) | M events/s | M events per CPU-s |",
        "|---|---:|---:|---:|---:|---:|",
        *(_table_row(row) for row in best.values()),
        "",
        f"Same frames: live_snn `bin_events` and tonic `ToFrame` gave "
        f"{'identical' if identical else '**DIFFERENT**'} 128x128 frames on every recording.",
        *([] if faery_same is None else [
            "",
            f"Same events: faery's AEDAT4 decoder and dv-processing gave "
            f"{'identical' if faery_same else '**DIFFERENT**'} events on every recording.",
        ]),
        "",
        _decode_verdict(
            decodes=(best["decode"], best["decode_whole"], best["decode_raw"]),
            decode_bins=(best["decode_bin"], best["decode_bin_whole"]),
            binning=max(best["offline"].rate, best["stream"].rate),
            floor=best["floor"],
        ),
        *_binning_verdicts(stream=best["stream"], offline=best["offline"],
                           offline_64=best["offline_64"], tonic=best["tonic"],
                           floor=best["floor"], n_bins=n_bins, n_pushes=n_pushes),
    ]
    return "\n".join(lines)


def _table_row(r: Row) -> str:
    if not r.events:
        return f"| {r.stage} | — | {r.seconds:.3f} | {r.cpu_seconds:.3f} | — | — |"
    return (f"| {r.stage} | {r.events:,} | {r.seconds:.3f} | {r.cpu_seconds:.3f} | "
            f"{r.rate / 1e6:.1f} | {r.events / r.cpu_seconds / 1e6:.1f} |")


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _cpu_rate(row: Row) -> float:
    return row.events / row.cpu_seconds


def _m(rate: float) -> str:
    return f"{rate / 1e6:.1f}"


def _decode_verdict(*, decodes: tuple[Row, Row, Row], decode_bins: tuple[Row, Row],
                    binning: float, floor: Row) -> str:
    """The decode + bin target, and what decoding leaves to binning on one core."""
    m, cpu_rate = _m, _cpu_rate
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
    return (
        f"* Target decode + bin ≥ {TARGET_EVENTS_PER_S / 1e6:.0f} M events/s: "
        f"{_verdict(best_decode_bin.rate >= TARGET_EVENTS_PER_S)} (best "
        f"{m(best_decode_bin.rate)}, {best_decode_bin.stage.split(': ', 1)[1]}; "
        f"{m(cpu_rate(best_decode_bin))} per CPU-second). {decode_bound}"
    )


def _binning_verdicts(*, stream: Row, offline: Row, offline_64: Row, tonic: Row, floor: Row,
                      n_bins: int, n_pushes: int) -> list[str]:
    """The ×tonic target, and what bounds binning: the dense frames it writes."""
    m, cpu_rate = _m, _cpu_rate
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
        f"* Target ≥ {TARGET_SPEEDUP:.0f}× tonic, binning alone: "
        f"{_verdict(min(speedups) >= TARGET_SPEEDUP)} ({speedups[0]:.1f}× for `bin_events`, "
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
