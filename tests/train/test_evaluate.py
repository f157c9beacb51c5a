import numpy as np
import torch

from live_snn.engine.predictor import PredictorConfig
from live_snn.train.evaluate import (
    StreamingConfig,
    clip_evaluation,
    predictor_outputs,
    stream_scores,
    streaming_evaluation,
)
from live_snn.train.report import evaluate_sessions
from live_snn.train.sessions import segment_clips

from .synthetic import CLASS_NAMES, NUM_CLASSES, quadrant_sessions, tiny_model


def test_chunked_run_equals_step_per_bin_across_sessions_of_different_lengths():
    model = tiny_model()
    sessions = quadrant_sessions(2, seed=3) + quadrant_sessions(1, seed=4, clips_per_session=3)
    exact = stream_scores(model, sessions, chunk=None)
    chunked = stream_scores(model, sessions, chunk=7)
    assert [s.shape for s in exact] == [(len(s), NUM_CLASSES) for s in sessions]
    for a, b in zip(exact, chunked, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_window_model_streams_by_rerunning_the_last_T_frames():
    model = tiny_model(attention="window").eval()
    session = quadrant_sessions(1, seed=5)[0]
    scores = stream_scores(model, [session])[0]
    k = 10  # bin 10 sees bins 5..10 (T = 6) from a fresh state
    x = session.frames[k - 5:k + 1, None].float()
    expected = model(x)[-1, 0].detach().numpy()
    np.testing.assert_allclose(scores[k], expected, atol=1e-6)
    head = torch.cat([torch.zeros((3, *session.frame_shape)), session.frames[:3].float()])
    np.testing.assert_allclose(scores[2], model(head[:, None])[-1, 0].detach().numpy(), atol=1e-6)


class _Oracle(torch.nn.Module):
    """A 'model' whose score is the true label of each bin's quadrant (to test scoring)."""

    streams_by_step = True

    def forward(self, x):  # [T, B, 2, H, W]
        h = x.shape[-1] // 2
        quads = torch.stack([x[..., :h, :h].sum((-1, -2, -3)), x[..., :h, h:].sum((-1, -2, -3)),
                             x[..., h:, :h].sum((-1, -2, -3))], dim=-1)
        return (quads > 0).float()

    def init_state(self, batch_size, device=None):
        return None

    def run(self, x, state):
        return self.forward(x), None, None


def test_oracle_gets_full_marks_and_onset_latency_of_the_stable_steps():
    sessions = quadrant_sessions(3, seed=6)
    config = StreamingConfig(PredictorConfig(ema_tau_steps=1.0, logit_scale=5.0),
                             grace_bins=1, stable_steps=2)
    result = streaming_evaluation(_Oracle(), sessions, NUM_CLASSES, config)
    assert result.accuracy == 1.0 and result.step_accuracy == 1.0
    assert result.latency_ms.median == 20.0  # 2 steps of 10 ms
    clips = [c for s in sessions for c in segment_clips(s)]
    assert clip_evaluation(_Oracle(), clips, NUM_CLASSES).accuracy == 1.0


def test_report_has_the_json_fields_and_summaries_for_each_recording():
    sessions = quadrant_sessions(2, seed=7)
    config = StreamingConfig(PredictorConfig(logit_scale=5.0), grace_bins=1, stable_steps=2)
    report = evaluate_sessions(tiny_model(), sessions, CLASS_NAMES, config)
    for key in ("clip_accuracy", "streaming_accuracy", "confusion", "onset_latency_ms"):
        assert key in report
    assert set(report["onset_latency_ms"]) >= {"median", "p90"}
    assert np.array(report["confusion"]).shape == (3, 3)
    assert np.array(report["confusion"]).sum() == 12  # 6 segments per session
    assert [r["name"] for r in report["recordings"]] == [s.name for s in sessions]
    assert report["recordings"][0]["predicted"] in CLASS_NAMES


def test_predictor_outputs_match_one_update_per_step():
    scores = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], np.float32)
    labels, smoothed = predictor_outputs(scores, PredictorConfig(ema_tau_steps=1.0))
    assert labels.tolist() == [0, 1, 1]
    np.testing.assert_allclose(smoothed.sum(axis=1), 1.0, rtol=1e-6)
