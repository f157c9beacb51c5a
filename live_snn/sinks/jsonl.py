"""Predictions as JSON Lines: the one writer used by ``live-snn run --jsonl``, ``live-snn
record --predictions`` and export. Line 1 is a session header (model hash, binning, classes,
source); then one line per bin. The format is documented in docs/jsonl.md."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
from pathlib import Path
from typing import IO, Any

import numpy as np

from live_snn.engine.records import Prediction, SessionInfo
from live_snn.errors import LiveSnnError

FORMAT = "live_snn.predictions/1"
PROB_DECIMALS = 6


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rounded(values: np.ndarray) -> list[float]:
    return np.round(np.asarray(values, dtype=np.float64), PROB_DECIMALS).tolist()


def session_header(info: SessionInfo, **extra: Any) -> dict:
    """Line 1 of every predictions file: enough to replay the session and compare later."""
    header = {
        "type": "session",
        "format": FORMAT,
        "source": info.source_description,
        "is_live": info.is_live,
        "start_us": info.start_us,
        "end_us": info.end_us,
        "model_sha256": info.model_sha256,
        "model_path": info.model_path,
        "class_names": list(info.class_names),
        "num_bins": info.num_bins,
        "binning": info.binning.as_dict(),
        "mapping": info.mapping.describe(),
        "device": info.device,
        "conv_dtype": info.conv_dtype,
        "uncertain_below": info.uncertain_below,
        "predictor": dataclasses.asdict(info.predictor),
        "uncertain_note": info.uncertain_note,
        "dt_us": info.dt_us,
        "window_steps": info.window_steps,
        "attention_channels": dict(info.attention_channels),
    }
    header.update(_jsonable(extra))
    return header


def prediction_record(
    pred: Prediction, *, include_scores: bool = True, include_taps: bool = False
) -> dict:
    """One bin as a JSON-ready dict (see docs/jsonl.md for every key)."""
    record = {
        "type": "bin",
        "bin": pred.bin,
        "t_start_us": pred.t_start_us,
        "t_end_us": pred.t_end_us,
        "events": pred.events,
        "label": pred.label,
        "label_name": pred.label_name,
        "confidence": round(float(pred.confidence), PROB_DECIMALS),
        "uncertain": bool(pred.uncertain),
        "onset": bool(pred.onset),
        "probs": _rounded(pred.probs),
        "smoothed": _rounded(pred.smoothed),
        "ground_truth": pred.ground_truth,
        "skipped_before": pred.skipped_before,
        # NaN (e.g. event_to_bin of an empty bin) is not JSON: null.
        "latency_ms": {k: round(float(v), 4) if math.isfinite(v) else None
                       for k, v in pred.latency_ms.items()},
    }
    if include_scores:
        record["scores"] = _rounded(pred.scores)
    if include_taps:
        record["spike_rates"] = {k: round(float(v), PROB_DECIMALS) for k, v in pred.spike_rates.items()}
        record["attention"] = {
            layer: {part: _rounded(values) for part, values in parts.items()}
            for layer, parts in pred.attention.items()
        }
    return record


class PredictionWriter:
    """Append predictions to a JSONL file, one flushed line per bin, so that a run that ends
    abruptly (camera unplugged, Ctrl-C) leaves every bin so far on disk."""

    def __init__(
        self,
        path: str | Path,
        info: SessionInfo,
        *,
        include_scores: bool = True,
        include_taps: bool = False,
        header_extra: dict | None = None,
    ):
        self.path = Path(path)
        self.include_scores = include_scores
        self.include_taps = include_taps
        self.lines = 0
        self.bytes_written = 0  # the whole lines on disk: a failed write is cut back to them
        try:
            # newline="\n": what is on disk is what bytes_written counts, on every platform.
            self._file: IO[str] | None = self.path.open("w", encoding="utf-8", buffering=1,
                                                        newline="\n")
        except OSError as exc:
            raise LiveSnnError(f"cannot write predictions to {self.path}: {exc.strerror}") from exc
        self._write(session_header(info, **(header_extra or {})))

    def _write(self, record: dict) -> None:
        if self._file is None:
            raise ValueError(f"prediction writer for {self.path} is closed")
        line = json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n"
        try:
            self._file.write(line)
        except OSError as exc:  # full disk, removed folder: the lines so far stay on disk
            # No half line after them: cut back this very file (not whatever the path names
            # by then), after closing, whose flush may write part of the line once more.
            fd = os.dup(self._file.fileno())
            try:
                self.close_quietly()
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, self.bytes_written)
            finally:
                os.close(fd)
            raise LiveSnnError(
                f"cannot write predictions to {self.path}: {exc.strerror or exc} (after "
                f"{self.lines} bins, which are in the file)"
            ) from None
        self.bytes_written += len(line.encode("utf-8"))

    def write(self, pred: Prediction) -> None:
        self._write(prediction_record(
            pred, include_scores=self.include_scores, include_taps=self.include_taps
        ))
        self.lines += 1

    def close(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.close()
            except OSError as exc:
                raise LiveSnnError(
                    f"cannot finish the predictions file {self.path}: {exc.strerror or exc}"
                ) from None

    def close_quietly(self) -> None:
        """Close after a write error (the error is what is reported, not this)."""
        with contextlib.suppress(LiveSnnError):
            self.close()

    def __enter__(self) -> PredictionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_predictions(path: str | Path) -> tuple[dict, list[dict]]:
    """(session header, bin records) of a predictions file; a clear error naming the line
    that is not what it should be."""
    path = Path(path)
    header: dict | None = None
    bins: list[dict] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LiveSnnError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
            kind = record.get("type") if isinstance(record, dict) else None
            if number == 1:
                if kind != "session":
                    raise LiveSnnError(
                        f"{path}:1: expected the session header (type 'session'), got {kind!r}"
                    )
                header = record
            elif kind == "bin":
                bins.append(record)
            else:
                raise LiveSnnError(f"{path}:{number}: expected a bin record (type 'bin'), got {kind!r}")
    if header is None:
        raise LiveSnnError(f"{path}: empty predictions file (no session header)")
    return header, bins
