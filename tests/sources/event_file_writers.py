"""Test-only writers for the formats no library writes: jAER AEDAT 2.0 (DVS128) and
Prophesee EVT 2.1, each from its format description, so that the readers are checked against
an encoder of their own; and copies of a recording in every format faery writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from live_snn.events import EventBatch

JAER_HEADER = (b"#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n"
               b"# Data format is int32 address, int32 timestamp (8 bytes total)\r\n"
               b"# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128\r\n"
               b"# created Mon Mar 02 10:00:00 CET 2026\r\n")


def write_jaer_dvs128(path: Path, events: EventBatch, *, raw_t: np.ndarray | None = None) -> Path:
    """AEDAT 2.0 as jAER writes a DVS128: address bit 0 = 1 for OFF, bits 1..7 = 127 - x,
    bits 8..14 = y from the bottom row; big-endian int32 address and timestamp. ``raw_t``:
    the int32 timestamps to store instead (to test wrapping)."""
    records = np.empty(len(events), dtype=[("address", ">i4"), ("t", ">i4")])
    y_from_bottom = 127 - events.y.astype(np.int32)
    records["address"] = (y_from_bottom << 8) | ((127 - events.x.astype(np.int32)) << 1) \
        | (1 - events.p.astype(np.int32))
    records["t"] = events.t if raw_t is None else raw_t
    path.write_bytes(JAER_HEADER + records.tobytes())
    return path


def evt21_words(events: EventBatch, *, group: bool = True) -> np.ndarray:
    """EVT 2.1 words (uint64, documented bit order) for time-ordered events: a time high
    word whenever bits 33..6 of the time change, then one word per run of events of the same
    time, row, polarity and 32-pixel group (``group=False``: one word per event)."""
    t, x, y, p = (events.t.astype(np.int64), events.x.astype(np.int64),
                  events.y.astype(np.int64), events.p.astype(np.int64))
    key = np.stack([t, y, p, x // 32]) if group else np.stack([np.arange(len(t))] * 4)
    starts = np.flatnonzero(np.concatenate([[True], (key[:, 1:] != key[:, :-1]).any(axis=0)]))
    word_of_event = np.cumsum(np.isin(np.arange(len(t)), starts)) - 1
    masks = np.zeros(len(starts), dtype=np.uint64)
    np.bitwise_or.at(masks, word_of_event, (np.uint64(1) << (x % 32).astype(np.uint64)))
    first = starts
    cd = ((p[first].astype(np.uint64) << np.uint64(60))
          | ((t[first] & 0x3F).astype(np.uint64) << np.uint64(54))
          | ((x[first] // 32 * 32).astype(np.uint64) << np.uint64(43))
          | (y[first].astype(np.uint64) << np.uint64(32)) | masks)
    high = t[first] >> 6
    new_high = np.concatenate([[True], high[1:] != high[:-1]])
    time_words = (np.uint64(0x8) << np.uint64(60)) | \
        ((high[new_high] & 0x0FFFFFFF).astype(np.uint64) << np.uint64(32))
    out = np.empty(len(cd) + len(time_words), dtype=np.uint64)
    at_time = np.flatnonzero(new_high) + np.arange(new_high.sum())
    is_time = np.zeros(len(out), dtype=bool)
    is_time[at_time] = True
    out[is_time] = time_words
    out[~is_time] = cd
    return out


def write_evt21(path: Path, events: EventBatch, *, legacy: bool = False, header: bool = True,
                group: bool = True) -> Path:
    words = evt21_words(events, group=group)
    if legacy:  # an IMX636 sends the high half first
        words = (words >> np.uint64(32)) | (words << np.uint64(32))
    res = events.resolution
    text = (f"% camera_integrator_name Prophesee\n% evt 2.1\n% format EVT21;height={res.height};"
            f"width={res.width}{';endianness=legacy' if legacy else ''}\n"
            f"% geometry {res.width}x{res.height}\n% end\n").encode() if header else b""
    path.write_bytes(text + words.astype("<u8").tobytes())
    return path


def write_with_faery(path: Path, events: EventBatch, *, raw_version: str = "evt3") -> Path:
    """``events`` written with faery's own encoders in the format of ``path``'s suffix."""
    from faery.extension import aedat, csv, dat, es, evt

    from live_snn.sinks.event_files import _aedat4_description

    dims = (events.resolution.width, events.resolution.height)
    faery = np.empty(len(events), dtype=[("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("on", "?")])
    faery["t"], faery["x"], faery["y"], faery["on"] = events.t, events.x, events.y, events.p
    suffix = path.suffix
    if suffix == ".raw":
        with evt.Encoder(path, raw_version, False, dims, True) as encoder:
            encoder.write({"events": faery})
    elif suffix == ".dat":
        payload = faery.astype([("t", "<u8"), ("x", "<u2"), ("y", "<u2"), ("payload", "u1")])
        with dat.Encoder(path, "dat2", "cd", False, dims) as encoder:
            encoder.write(payload)
    elif suffix == ".es":
        faery["y"] = dims[1] - 1 - faery["y"]
        with es.Encoder(path, "dvs", False, dims) as encoder:
            encoder.write(faery)
    elif suffix == ".csv":
        with csv.Encoder(path, ord(","), True, dims, True) as encoder:
            encoder.write(faery)
    elif suffix == ".aedat4":
        with aedat.Encoder(path, _aedat4_description(dims), aedat.LZ4_DEFAULT) as encoder:
            encoder.write(0, faery)
    else:
        raise ValueError(f"no faery writer for {path}")
    return path
