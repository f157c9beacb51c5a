"""Clip accuracy and streaming accuracy of a model on labelled sessions.

* **Clip**: every labelled segment (a whole trial) is run on its own from a fresh state, in
  batches; its class is the argmax of the scores averaged over its steps.
* **Streaming**: each session is played bin by bin through ``model.step()`` without any reset,
  exactly as the engine runs a source (for ``window`` models: the last T frames re-run for
  every bin, as the engine does), and the scores go through the live
  :class:`~live_snn.engine.predictor.Predictor`. Each labelled segment is then judged on the
  labels shown after its grace period (majority), and its onset latency is the time until the
  shown label is right for ``stable_steps`` steps in a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from live_snn.engine.predictor import Predictor, PredictorConfig
from live_snn.train.metrics import (
    LatencyStats,
    SegmentScore,
    accuracy,
    confusion_matrix,
    latency_stats,
    per_class_recall,
    score_segments,
)
from live_snn.train.sessions import LabelledSession


@dataclass(frozen=True)
class StreamingConfig:
    predictor: PredictorConfig
    grace_bins: int = 0          # bins after a segment start that are not scored
    stable_steps: int = 3        # consecutive correct steps that count as "recognised"
    batch_sessions: int = 8      # sessions stepped side by side (independent states)
    chunk: int | None = 50       # bins per model.run() call; None = model.step() per bin


@dataclass
class StreamingResult:
    accuracy: float              # segments whose majority label after the grace period is right
    step_accuracy: float         # fraction of scored steps showing the right label
    confusion: np.ndarray        # [K, K] over segments (majority label)
    per_class: np.ndarray        # recall per class
    latency_ms: LatencyStats
    latencies_ms: list[float]    # of the recognised segments
    segments: list[SegmentScore]


@dataclass
class ClipResult:
    accuracy: float
    confusion: np.ndarray
    clips: int


def window_length(model: nn.Module) -> int | None:
    """T of a window-mode model (its attention only works on whole windows), else None."""
    if getattr(model, "streams_by_step", True):
        return None
    config = getattr(model, "config", None)
    for name in ("T", "window", "time_steps", "timesteps"):
        value = getattr(config, name, None)
        if isinstance(value, int):
            return value
    raise AttributeError("window-mode model does not say its window length T in model.config")


@torch.no_grad()
def stream_scores(
    model: nn.Module,
    sessions: Sequence[LabelledSession],
    *,
    device: torch.device | str = "cpu",
    batch_sessions: int = 8,
    chunk: int | None = 50,
) -> list[np.ndarray]:
    """Per-step scores ``[N_i, K]`` of each session, played bin by bin with carried state.

    ``chunk=None`` calls ``model.step()`` once per bin, exactly as the engine does;
    otherwise ``chunk`` bins at a time go through ``model.run()`` with the state carried
    between calls, which the model guarantees (and its tests check) gives the same scores,
    a few times faster on a CPU."""
    model.eval()
    t_window = window_length(model)
    out: list[np.ndarray] = []
    for first in range(0, len(sessions), batch_sessions):
        group = sessions[first:first + batch_sessions]
        if t_window is None:
            out.extend(_step_group(model, group, device, chunk))
        else:
            out.extend(_window_session(model, s, t_window, device) for s in group)
    return out


def _step_group(model: nn.Module, group: Sequence[LabelledSession],
                device: torch.device | str, chunk: int | None) -> list[np.ndarray]:
    longest = max(len(s) for s in group)
    shape = group[0].frame_shape
    # Shorter sessions are padded at the end; their padded steps are cut off below and
    # cannot affect earlier steps of a causal model.
    frames = torch.zeros((longest, len(group), *shape), dtype=torch.uint8)
    for b, s in enumerate(group):
        frames[:len(s), b] = s.frames
    state = model.init_state(batch_size=len(group), device=device)
    scores = []
    if chunk is None:
        for t in range(longest):  # one model step per bin, as live
            step_scores, state, _ = model.step(frames[t].to(device).float(), state)
            scores.append(step_scores.float().cpu()[None])
    else:
        for first in range(0, longest, chunk):
            part, state, _ = model.run(frames[first:first + chunk].to(device).float(), state)
            scores.append(part.float().cpu())
    stacked = torch.cat(scores).numpy()
    return [stacked[:len(s), b] for b, s in enumerate(group)]


def _window_session(model: nn.Module, session: LabelledSession, t_window: int,
                    device: torch.device | str, chunk: int = 64) -> np.ndarray:
    frames = session.frames
    padded = torch.cat([torch.zeros((t_window - 1, *session.frame_shape), dtype=torch.uint8),
                        frames])
    results = []
    for first in range(0, len(session), chunk):  # chunk of bins, each with its own window
        last = min(first + chunk, len(session))
        windows = padded.unfold(0, t_window, 1)[first:last]   # [n, 2, H, W, T]
        x = windows.permute(4, 0, 1, 2, 3).to(device).float()  # [T, n, 2, H, W]
        results.append(model(x)[-1].float().cpu())
    return torch.cat(results).numpy()


def predictor_outputs(scores: np.ndarray, config: PredictorConfig
                      ) -> tuple[np.ndarray, np.ndarray]:
    """What the live predictor shows at each step: label [N] and smoothed probabilities
    [N, K] (one ``update`` per step, as in the engine)."""
    predictor = Predictor(config, scores.shape[1])
    labels = np.empty(scores.shape[0], dtype=np.int64)
    smoothed = np.empty(scores.shape, dtype=np.float32)
    for i, step_scores in enumerate(scores):  # one update per model step, not per event
        out = predictor.update(step_scores)
        labels[i] = out.label
        smoothed[i] = out.smoothed
    return labels, smoothed


def streaming_evaluation(
    model: nn.Module,
    sessions: Sequence[LabelledSession],
    num_classes: int,
    config: StreamingConfig,
    *,
    device: torch.device | str = "cpu",
) -> StreamingResult:
    all_scores = stream_scores(model, sessions, device=device,
                               batch_sessions=config.batch_sessions, chunk=config.chunk)
    return score_streams(all_scores, sessions, num_classes, config)


def score_streams(
    all_scores: Sequence[np.ndarray],
    sessions: Sequence[LabelledSession],
    num_classes: int,
    config: StreamingConfig,
) -> StreamingResult:
    segments: list[SegmentScore] = []
    latencies: list[float | None] = []
    for scores, session in zip(all_scores, sessions, strict=True):
        labels, _ = predictor_outputs(scores, config.predictor)
        scored = score_segments(labels, session.segments, num_classes,
                                grace=config.grace_bins, stable_steps=config.stable_steps)
        segments.extend(scored)
        dt_ms = session.dt_us / 1000.0
        latencies.extend(None if s.latency_bins is None else s.latency_bins * dt_ms
                         for s in scored)
    if not segments:
        raise ValueError("no labelled segments in the evaluation sessions")
    confusion = confusion_matrix(np.array([s.label for s in segments]),
                                 np.array([s.voted for s in segments]), num_classes)
    steps = sum(s.steps_scored for s in segments)
    return StreamingResult(
        accuracy=accuracy(confusion),
        step_accuracy=sum(s.steps_correct for s in segments) / max(steps, 1),
        confusion=confusion,
        per_class=per_class_recall(confusion),
        latency_ms=latency_stats(latencies),
        latencies_ms=[v for v in latencies if v is not None],
        segments=segments,
    )


@torch.no_grad()
def clip_evaluation(
    model: nn.Module,
    clips: Sequence[tuple[torch.Tensor, int]],
    num_classes: int,
    *,
    device: torch.device | str = "cpu",
    batch_size: int = 32,
) -> ClipResult:
    """Each clip ``([n, 2, H, W] uint8, label)`` from a fresh state, batched by length."""
    model.eval()
    if not clips:
        raise ValueError("no clips to evaluate")
    t_window = window_length(model)
    order = sorted(range(len(clips)), key=lambda i: clips[i][0].shape[0])
    predicted = np.empty(len(clips), dtype=np.int64)
    for first in range(0, len(order), batch_size):
        idx = order[first:first + batch_size]
        lengths = [clips[i][0].shape[0] for i in idx]
        if t_window is not None:
            lengths = [max(t_window, n - n % t_window) for n in lengths]
        longest = max(lengths)
        x = torch.zeros((longest, len(idx), *clips[idx[0]][0].shape[1:]), dtype=torch.uint8)
        for b, i in enumerate(idx):
            clip = clips[i][0]
            if t_window is not None and clip.shape[0] < t_window:
                x[t_window - clip.shape[0]:t_window, b] = clip
            else:
                x[:lengths[b], b] = clip[:lengths[b]]
        mean_scores = _mean_clip_scores(model, x.to(device).float(), lengths, t_window)
        predicted[idx] = mean_scores.argmax(dim=1).numpy()
    true = np.array([label for _, label in clips], dtype=np.int64)
    confusion = confusion_matrix(true, predicted, num_classes)
    return ClipResult(accuracy(confusion), confusion, len(clips))


def _mean_clip_scores(model: nn.Module, x: torch.Tensor, lengths: list[int],
                      t_window: int | None) -> torch.Tensor:
    if t_window is None:
        scores = model(x).float().cpu()                       # [T, B, K]
    else:  # non-overlapping windows, each from a fresh state, as the paper evaluates
        n_win = x.shape[0] // t_window
        b = x.shape[1]
        wins = x[:n_win * t_window].reshape(n_win, t_window, *x.shape[1:])
        wins = wins.permute(1, 0, 2, 3, 4, 5).reshape(t_window, n_win * b, *x.shape[2:])
        scores = model(wins).float().cpu().reshape(t_window, n_win, b, -1)
        scores = scores.permute(1, 0, 2, 3).reshape(n_win * t_window, b, -1)
    valid = torch.arange(scores.shape[0])[:, None] < torch.tensor(lengths)[None, :]
    return (scores * valid[..., None]).sum(0) / valid.sum(0)[:, None]
