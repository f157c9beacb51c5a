"""The streaming engine: runs a source through the binner, ring buffer, model and predictor
on its own thread and emits one :class:`Prediction` per bin (see docs/architecture.md).

Names are loaded on first use, so that importing the light records
(``live_snn.engine.records``, ``live_snn.engine.predictor``) does not import torch."""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Engine": "engine", "MultiStreamEngine": "multi_engine", "EngineConfig": "config", "EngineEvent": "config",
    "LATENCY_STAGES": "records", "EngineStats": "records", "LatencySummary": "records",
    "Prediction": "records", "SessionInfo": "records",
    "Predictor": "predictor", "PredictorConfig": "predictor",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"live_snn.engine.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'live_snn.engine' has no attribute {name!r}")
