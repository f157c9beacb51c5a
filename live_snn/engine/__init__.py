"""The streaming engine: runs a source through the binner, ring buffer, model and predictor
on its own thread and emits one :class:`Prediction` per bin (see docs/architecture.md)."""

from live_snn.engine.engine import Engine, EngineConfig, EngineEvent
from live_snn.engine.prediction import (
    LATENCY_STAGES,
    EngineStats,
    LatencySummary,
    Prediction,
    SessionInfo,
)
from live_snn.engine.predictor import Predictor, PredictorConfig

__all__ = [
    "LATENCY_STAGES",
    "Engine",
    "EngineConfig",
    "EngineEvent",
    "EngineStats",
    "LatencySummary",
    "Prediction",
    "Predictor",
    "PredictorConfig",
    "SessionInfo",
]
