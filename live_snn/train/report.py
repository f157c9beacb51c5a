"""One evaluation of a checkpoint on a set of sessions, as a JSON-ready dict: clip accuracy,
streaming accuracy, confusion, onset latency and, for every recording, what the model says
about it (the only thing there is to report on unlabelled recordings)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from live_snn.train.evaluate import (
    StreamingConfig,
    clip_evaluation,
    predictor_outputs,
    score_streams,
    stream_scores,
)
from live_snn.train.sessions import LabelledSession, segment_clips
from live_snn.train.uncertainty import uncertainty_report


def recording_summary(session: LabelledSession, labels: np.ndarray, smoothed: np.ndarray,
                      class_names: Sequence[str]) -> dict:
    """What the live display would have said: the class with the highest mean smoothed
    probability over the recording (after its first second of warm-up when it is longer),
    that mean probability, and how often each class was the label shown."""
    warm = min(len(labels) // 3, int(round(1e6 / session.dt_us)))
    probs = smoothed[warm:].mean(axis=0)
    top = int(np.argmax(probs))
    shown = np.bincount(labels[warm:], minlength=len(class_names)) / max(len(labels) - warm, 1)
    ranked = np.argsort(-probs)[:3]
    return {
        "name": session.name,
        "bins": len(session),
        "predicted": class_names[top],
        "mean_confidence": float(probs[top]),
        "top3": [{"class": class_names[int(i)], "mean_probability": float(probs[i])}
                 for i in ranked],
        "shown_fraction": {class_names[i]: round(float(f), 4) for i, f in enumerate(shown) if f},
        "final_label": class_names[int(labels[-1])],
        "final_confidence": float(smoothed[-1].max()),
        "labelled_segments": len(session.segments),
    }


def evaluate_sessions(
    model: torch.nn.Module,
    sessions: Sequence[LabelledSession],
    class_names: Sequence[str],
    streaming: StreamingConfig,
    *,
    device: torch.device | str = "cpu",
    clip_batch: int = 16,
    clip: bool = True,
) -> dict:
    num_classes = len(class_names)
    all_scores = stream_scores(model, sessions, device=device,
                               batch_sessions=streaming.batch_sessions, chunk=streaming.chunk)
    recordings = []
    for scores, session in zip(all_scores, sessions, strict=True):
        labels, smoothed = predictor_outputs(scores, streaming.predictor)
        recordings.append(recording_summary(session, labels, smoothed, class_names))
    report: dict = {
        "class_names": list(class_names),
        "sessions": len(sessions),
        "bins": int(sum(len(s) for s in sessions)),
        "predictor": {"smoothing": streaming.predictor.smoothing,
                      "ema_tau_steps": streaming.predictor.ema_tau_steps,
                      "logit_scale": streaming.predictor.logit_scale,
                      "uncertain_below": streaming.predictor.uncertain_below},
        "grace_bins": streaming.grace_bins,
        "stable_steps": streaming.stable_steps,
        "streaming_mode": "model.step() per bin" if streaming.chunk is None else
                          f"model.run() over {streaming.chunk}-bin chunks, state carried",
        "recordings": recordings,
        "clip_accuracy": None,
        "streaming_accuracy": None,
        "confusion": None,
        "onset_latency_ms": {"median": None, "p90": None, "detected": 0, "total": 0},
    }
    clips = [c for s in sessions for c in segment_clips(s)]
    if not clips:
        return report
    if clip:  # ``clip=False``: streaming only (a whole second pass saved)
        whole = clip_evaluation(model, clips, num_classes, device=device, batch_size=clip_batch)
        report.update(clip_accuracy=whole.accuracy, clip_confusion=whole.confusion.tolist())
    stream = score_streams(all_scores, sessions, num_classes, streaming)
    report.update({
        "segments": len(clips),
        "streaming_accuracy": stream.accuracy,
        "streaming_step_accuracy": stream.step_accuracy,
        "confusion": stream.confusion.tolist(),
        "per_class_streaming_accuracy": {
            name: (None if np.isnan(r) else float(r))
            for name, r in zip(class_names, stream.per_class, strict=True)},
        "onset_latency_ms": stream.latency_ms.as_dict(),
        "onset_latencies_ms": [round(v, 3) for v in stream.latencies_ms],
    })
    if streaming.predictor.uncertain_below > 0:
        report["uncertain"] = uncertainty_report(
            all_scores, sessions, num_classes, streaming.predictor,
            grace_bins=streaming.grace_bins, stable_steps=streaming.stable_steps)
    return report


def default_streaming_config(readout: dict, dt_us: int, *, grace_ms: float | None = None,
                             ema_tau: float | None = None, onset_steps: int | None = None,
                             uncertain_below: float | None = None,
                             chunk: int | None = 50) -> StreamingConfig:
    """The predictor settings a checkpoint was trained and validated with, unless overridden."""
    import dataclasses

    from live_snn.engine.predictor import PredictorConfig

    asked = {"ema_tau_steps": ema_tau, "onset_steps": onset_steps,
             "uncertain_below": uncertain_below}
    predictor = dataclasses.replace(PredictorConfig.from_readout(readout),
                                    **{k: v for k, v in asked.items() if v is not None})
    grace = grace_ms if grace_ms is not None else float(readout.get("grace_ms", 100.0))
    return StreamingConfig(predictor=predictor, grace_bins=int(round(grace * 1000 / dt_us)),
                           stable_steps=predictor.onset_steps, chunk=chunk)
