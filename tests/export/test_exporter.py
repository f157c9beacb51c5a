"""End to end on a real recording: ``live-snn export`` against the engine's own JSONL for the
same run, the decoded video against the bins' events, ``--from/--to``, and early failures."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from live_snn.binning import BinningConfig, bin_events
from live_snn.cli import main
from live_snn.engine import session as engine_session
from live_snn.errors import LiveSnnError
from live_snn.events import EventBatch, LabelSegment, LabelTrack
from live_snn.export import exporter
from live_snn.export.npz import read_npz
from live_snn.export.palette import MATCH_RGB, MISMATCH_RGB, bgr
from live_snn.export.render import FrameContent, FrameRenderer, RenderStyle
from live_snn.sinks.jsonl import read_predictions

from .conftest import CLASS_NAMES, DT_US, T_STEPS


def run_cli(*argv) -> int:
    return main([str(a) for a in argv])


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """The model here is tiny: a second OpenMP thread only spins against the other work on a
    shared 2-core machine (8 vs 130 steps/s measured). Same setting for every run compared."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def full_export(tmp_path_factory, gesture_recording, export_ckpt):
    out = tmp_path_factory.mktemp("export")
    video, data = out / "full.mp4", out / "full.npz"
    code = run_cli("export", gesture_recording, "--model", export_ckpt, "--video", video,
                   "--data", data, "--device", "cpu", "--no-progress")
    assert code == 0
    arrays, metadata = read_npz(data)
    return SimpleNamespace(video=video, data=data, arrays=arrays, metadata=metadata)


@pytest.fixture(scope="module")
def engine_jsonl(tmp_path_factory, gesture_recording, export_ckpt):
    path = tmp_path_factory.mktemp("run") / "run.jsonl"
    code = run_cli("run", gesture_recording, "--model", export_ckpt, "--speed", "max",
                   "--device", "cpu", "--jsonl", path, "--quiet")
    assert code == 0
    return read_predictions(path)


@pytest.fixture(scope="module")
def gesture_events(gesture_recording) -> EventBatch:
    from live_snn.sources.aedat4 import Aedat4Source

    with Aedat4Source(gesture_recording) as source:
        return EventBatch.concatenate(list(source))


@pytest.fixture(scope="module")
def recording_frames(gesture_events, full_export):
    """The bins' model-resolution counts, binned offline with the binning the export used."""
    binning = BinningConfig.from_dict(full_export.metadata["binning"])
    return bin_events(gesture_events, binning).frames


def read_video(path: Path) -> tuple[list[np.ndarray], dict]:
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f"OpenCV cannot open {path}"
    try:
        info = {
            "frames": int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
            "width": int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            "height": int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            "fps": capture.get(cv2.CAP_PROP_FPS),
        }
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        capture.release()
    return frames, info


def expected_renderer(metadata: dict, frame_shape=(32, 32)) -> FrameRenderer:
    return FrameRenderer(frame_shape, CLASS_NAMES, gate_layer=metadata["video_gate_layer"],
                         style=RenderStyle(gate_steps=T_STEPS))


def test_video_has_one_frame_per_bin_at_the_expected_size(full_export):
    arrays, metadata = full_export.arrays, full_export.metadata
    n_bins = -(-(metadata["end_us"] - metadata["start_us"] + 1) // DT_US)
    assert n_bins == 73  # 1.45 s of DVS128 Gesture at 20 ms
    np.testing.assert_array_equal(arrays["bin"], np.arange(n_bins))
    frames, info = read_video(full_export.video)
    renderer = expected_renderer(metadata)
    assert info["frames"] == len(frames) == n_bins
    assert (info["width"], info["height"]) == renderer.size
    assert info["fps"] == pytest.approx(1e6 / DT_US)
    assert frames[0].shape == (renderer.height, renderer.width, 3)


def test_a_middle_frame_shows_the_bins_events(full_export, recording_frames):
    frames, _ = read_video(full_export.video)
    renderer = expected_renderer(full_export.metadata)
    k = len(frames) // 2
    counts = recording_frames[k]
    assert counts.sum() > 100, "the middle bin of this recording should hold events"
    s, top = renderer.scale, renderer.style.header_height
    panel = frames[k][top:top + 32 * s, :32 * s].astype(int)
    centres = panel[s // 2::s, s // 2::s]                     # one pixel per model pixel
    brightness = centres.max(axis=-1)
    hit = counts.sum(axis=0) > 0
    # Far from any event (no event in the 3x3 neighbourhood) the panel must stay black.
    near = cv2.dilate(hit.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert np.mean(brightness[hit] > 60) > 0.95
    assert np.mean(brightness[~near] < 30) > 0.95
    on_only = (counts[1] >= 2) & (counts[0] == 0)
    off_only = (counts[0] >= 2) & (counts[1] == 0)
    assert on_only.any() and off_only.any()
    assert np.mean(centres[on_only][:, 2] > centres[on_only][:, 0]) > 0.9    # red > blue (BGR)
    assert np.mean(centres[off_only][:, 0] > centres[off_only][:, 2]) > 0.9


def test_the_decoded_frame_matches_the_rendered_one(full_export, recording_frames):
    """The whole frame (text, bars, gate strip), up to compression."""
    frames, _ = read_video(full_export.video)
    arrays, metadata = full_export.arrays, full_export.metadata
    renderer = expected_renderer(metadata)
    k = len(frames) // 2
    gate = arrays[f"attention/{metadata['video_gate_layer']}/gate"]
    expected = renderer.render(FrameContent(
        counts=recording_frames[k], probabilities=arrays["smoothed"][k],
        raw_probabilities=arrays["probs"][k], label=int(arrays["label"][k]),
        confidence=float(arrays["confidence"][k]), bin_index=k,
        t_start_s=float(arrays["t_start_s"][k]), t_end_s=float(arrays["t_end_s"][k]),
        events=int(arrays["events"][k]), ground_truth=int(arrays["ground_truth"][k]),
        uncertain=bool(arrays["uncertain"][k]), gate_strip=gate[k - T_STEPS + 1:k + 1],
    ))
    error = np.abs(frames[k].astype(float) - expected.astype(float))
    psnr = 10 * np.log10(255.0**2 / np.mean(error**2))
    assert psnr > 25, f"decoded frame differs from the rendered one (PSNR {psnr:.1f} dB)"


def test_npz_holds_the_engines_jsonl_probabilities(full_export, engine_jsonl):
    header, records = engine_jsonl
    arrays, metadata = full_export.arrays, full_export.metadata
    assert len(records) == len(arrays["bin"])
    np.testing.assert_array_equal(arrays["bin"], [r["bin"] for r in records])
    np.testing.assert_array_equal(arrays["t_start_us"], [r["t_start_us"] for r in records])
    np.testing.assert_array_equal(arrays["events"], [r["events"] for r in records])
    # The JSONL rounds to 6 decimals.
    np.testing.assert_allclose(arrays["probs"], [r["probs"] for r in records], atol=1e-6)
    np.testing.assert_allclose(arrays["smoothed"], [r["smoothed"] for r in records], atol=1e-6)
    np.testing.assert_allclose(arrays["scores"], [r["scores"] for r in records], atol=1e-6)
    np.testing.assert_array_equal(arrays["label"], [r["label"] for r in records])
    assert arrays["probs"].std(axis=0).max() > 1e-3  # outputs vary: the check has teeth
    assert metadata["model_sha256"] == header["model_sha256"]


def test_npz_has_every_documented_key_and_loads_without_pickle(full_export, export_ckpt):
    with np.load(full_export.data, allow_pickle=False) as data:
        keys = set(data.files)
        metadata = json.loads(str(data["metadata"]))
    n = len(full_export.arrays["bin"])
    for key in ("bin", "t_start_us", "t_end_us", "t_start_s", "t_end_s", "events", "scores",
                "probs", "smoothed", "label", "confidence", "uncertain", "onset",
                "ground_truth", "class_names", "metadata"):
        assert key in keys, key
    assert metadata["attention_layers"] and metadata["spiking_layers"]
    for layer in metadata["attention_layers"]:
        channels = metadata["attention_channels"][layer]
        for part in ("gate", "branch_a", "branch_b"):
            assert full_export.arrays[f"attention/{layer}/{part}"].shape == (n, channels)
        gate = full_export.arrays[f"attention/{layer}/gate"]
        assert gate.min() >= 0 and gate.max() <= 1 and gate.std() > 0
    for layer in metadata["spiking_layers"]:
        rates = full_export.arrays[f"spike_rate/{layer}"]
        assert rates.shape == (n,) and rates.min() >= 0 and rates.max() <= 1
    assert metadata["model_sha256"] == hashlib.sha256(export_ckpt.read_bytes()).hexdigest()
    assert metadata["binning"]["dt_us"] == DT_US
    assert metadata["class_names"] == list(CLASS_NAMES)
    assert metadata["first_bin"] == 0 and metadata["last_bin"] == n - 1
    np.testing.assert_array_equal(full_export.arrays["ground_truth"], -1)  # unlabelled file


def test_from_to_exports_exactly_the_bins_in_range_with_uninterrupted_state(
        tmp_path, gesture_recording, export_ckpt, full_export):
    video, data = tmp_path / "part.mp4", tmp_path / "part.npz"
    code = run_cli("export", gesture_recording, "--model", export_ckpt, "--video", video,
                   "--data", data, "--from", "0.3", "--to", "0.6", "--device", "cpu",
                   "--no-progress")
    assert code == 0
    arrays, metadata = read_npz(data)
    np.testing.assert_array_equal(arrays["bin"], np.arange(15, 30))
    np.testing.assert_allclose(arrays["t_start_s"], np.arange(15, 30) * DT_US / 1e6)
    frames, info = read_video(video)
    assert info["frames"] == len(frames) == 15
    full = full_export.arrays
    # The state at --from equals uninterrupted playback's: same outputs as the full run.
    np.testing.assert_allclose(arrays["probs"], full["probs"][15:30], atol=1e-6)
    np.testing.assert_allclose(arrays["smoothed"], full["smoothed"][15:30], atol=1e-6)
    layer = metadata["video_gate_layer"]
    np.testing.assert_allclose(arrays[f"attention/{layer}/gate"],
                               full[f"attention/{layer}/gate"][15:30], atol=1e-6)
    assert (metadata["from_s"], metadata["to_s"]) == (0.3, 0.6)


def test_sensor_view_draws_the_full_sensor(tmp_path, gesture_recording, export_ckpt):
    video = tmp_path / "sensor.avi"
    code = run_cli("export", gesture_recording, "--model", export_ckpt, "--video", video,
                   "--from", "0.1", "--to", "0.15", "--view", "sensor", "--no-progress",
                   "--playback-speed", "0.25")
    assert code == 0
    frames, info = read_video(video)
    renderer = FrameRenderer((128, 128), CLASS_NAMES, gate_layer="x",
                             style=RenderStyle(gate_steps=T_STEPS))
    assert len(frames) == 3 and (info["width"], info["height"]) == renderer.size
    assert info["fps"] == pytest.approx(0.25 * 1e6 / DT_US)


def test_ground_truth_of_a_labelled_source_reaches_the_data_and_the_video(
        tmp_path, gesture_events, export_ckpt):
    from live_snn.engine.config import EngineConfig
    from live_snn.sources.memory import MemorySource

    start = int(gesture_events.t[0])
    labels = LabelTrack((LabelSegment(2, start + 200_000, start + 400_000),
                         LabelSegment(5, start + 400_000, start + 600_000)), CLASS_NAMES)
    source = MemorySource(gesture_events, description="labelled gesture", labels=labels)
    video, data = tmp_path / "truth.mp4", tmp_path / "truth.npz"
    result = exporter.export(exporter.ExportConfig(
        source=source, model=export_ckpt, video=video, data=data, start_s=0.15, end_s=0.65,
        engine=EngineConfig(device="cpu"), progress=False))
    assert (result.first_bin, result.last_bin, result.bins) == (7, 32, 26)
    arrays, metadata = read_npz(data)
    centres = (arrays["t_start_us"] + arrays["t_end_us"]) // 2
    np.testing.assert_array_equal(arrays["ground_truth"], labels.label_at(centres))
    assert set(arrays["ground_truth"]) == {-1, 2, 5}
    assert metadata["source"] == "labelled gesture" and metadata["source_spec"] is None

    frames, _ = read_video(video)
    renderer = expected_renderer(metadata)
    y = renderer.truth_y                                              # the truth line
    band = (slice(y - renderer._line + 4, y + 5), slice(renderer.side_x, None))

    def truth_pixels(frame):
        pixels = frame[band].astype(int)
        near = [np.abs(pixels - np.array(bgr(rgb))).max(axis=-1) < 50
                for rgb in (MATCH_RGB, MISMATCH_RGB)]
        return int((near[0] | near[1]).sum())

    truth = arrays["ground_truth"]
    with_truth = [truth_pixels(f) for f, t in zip(frames, truth, strict=True) if t >= 0]
    without = [truth_pixels(f) for f, t in zip(frames, truth, strict=True) if t < 0]
    assert min(with_truth) > 30 and max(without) < 5


@pytest.mark.parametrize("make_bad, reason", [
    (lambda tmp: tmp / "missing" / "out.mp4", "folder .*missing does not exist"),
    (lambda tmp: tmp / "a_file.txt" / "out.mp4", "a_file.txt is not a folder"),
    (lambda tmp: Path("/proc/1/out.mp4"), "cannot create files in /proc/1"),
    (lambda tmp: tmp / "a_folder.mp4", "a_folder.mp4: it is a folder"),
])
def test_an_unwritable_output_fails_before_any_work(tmp_path, monkeypatch, capsys,
                                                    gesture_recording, export_ckpt,
                                                    make_bad, reason):
    (tmp_path / "a_file.txt").write_text("not a folder")
    (tmp_path / "a_folder.mp4").mkdir()

    def no_engine(*_args, **_kwargs):
        raise AssertionError("the engine must not start when an output cannot be written")

    monkeypatch.setattr(exporter, "Engine", no_engine)
    bad = make_bad(tmp_path)
    good = tmp_path / "good.npz"
    code = run_cli("export", gesture_recording, "--model", export_ckpt, "--video", bad,
                   "--data", good, "--no-progress")
    assert code == 2
    err = capsys.readouterr().err
    assert "live-snn export: error: --video " in err
    assert len(err.strip().splitlines()) == 1
    assert re.search(reason, err), err
    assert not good.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file.txt", "a_folder.mp4"]


def test_an_output_over_the_recording_or_the_model_is_refused(tmp_path, gesture_recording,
                                                              export_ckpt, capsys):
    recording = tmp_path / "rec.aedat4"
    recording.write_bytes(Path(gesture_recording).read_bytes())
    before = recording.read_bytes()
    # the suffixes an export needs do not protect an input reached through a link
    (tmp_path / "video.mp4").symlink_to(recording)
    (tmp_path / "data.npz").symlink_to(export_ckpt)
    for option, target in (("--video", tmp_path / "video.mp4"),
                           ("--data", tmp_path / "data.npz")):
        argv = ["export", recording, "--model", export_ckpt, option, target, "--no-progress"]
        assert run_cli(*argv) == 2
        assert "refusing to write over an input" in capsys.readouterr().err
    assert recording.read_bytes() == before


def test_an_unwritable_data_path_is_named_too(tmp_path, monkeypatch, gesture_recording,
                                              export_ckpt):
    monkeypatch.setattr(exporter, "Engine", None)
    with pytest.raises(LiveSnnError, match=r"--data .*nowhere.*: folder .*nowhere does not exist"):
        exporter.export(exporter.ExportConfig(source=str(gesture_recording), model=export_ckpt,
                                              data=tmp_path / "nowhere" / "x.npz"))


@pytest.mark.parametrize("argv, message", [
    ([], "nothing to export"),
    (["--data", "{tmp}/x.npz", "--from", "9"], r"--from 9.0 s is past the end of .* \(1.4\d\d s, 73 bins of 20 ms\)"),
    (["--data", "{tmp}/x.npz", "--from", "1", "--to", "0.5"], "must come after --from"),
    (["--data", "{tmp}/x.npz", "--gate-layer", "nope"], r"no attention layer 'nope'.*blocks"),
    (["--video", "{tmp}/x.gif"], r"unknown container '\.gif'"),
    (["--data", "{tmp}/x.csv"], "must end in .npz"),
    (["--data", "{tmp}/x.npz", "--tau", "0.5"], "--tau must be >= 1 step"),
])
def test_bad_requests_get_a_specific_error(tmp_path, capsys, gesture_recording, export_ckpt,
                                           argv, message):
    argv = [a.format(tmp=tmp_path) for a in argv]
    code = run_cli("export", gesture_recording, "--model", export_ckpt, "--no-progress", *argv)
    assert code == 2
    assert re.search(message, capsys.readouterr().err)
    assert not list(tmp_path.iterdir())


def test_without_model_and_without_the_bundled_one_the_error_says_so(tmp_path, monkeypatch,
                                                                      gesture_recording):
    monkeypatch.setattr(engine_session, "DEFAULT_MODEL_PATH", tmp_path / "default_lite.safetensors")
    with pytest.raises(LiveSnnError, match=r"no model given and no bundled model.*--model"):
        exporter.export(exporter.ExportConfig(source=str(gesture_recording),
                                              data=tmp_path / "x.npz", progress=False))


def test_bins_to_export_takes_every_bin_overlapping_the_range():
    info = SimpleNamespace(dt_us=10_000, num_bins=145, source_description="rec",
                           start_us=1_000_000, end_us=2_449_999)
    assert exporter.bins_to_export(info, None, None) == range(0, 145)
    assert exporter.bins_to_export(info, 1.5 - 1.0, 1.0) == range(50, 100)
    assert exporter.bins_to_export(info, 0.505, 0.995) == range(50, 100)
    assert exporter.bins_to_export(info, 1.2, 99.0) == range(120, 145)
    assert exporter.bins_to_export(info, 0.07, 0.08) == range(7, 8)
    with pytest.raises(LiveSnnError, match="selects no bin"):
        exporter.bins_to_export(info, None, 0.0)


def test_the_predictor_as_run_and_the_threshold_note_are_recorded_and_said(
        tmp_path, export_ckpt, with_readout, capsys):
    recording = Path(__file__).resolve().parents[2] / "recordings" / "demo_seed30000_0000.aedat4"
    # the model's own smoothing is an EMA of 2 steps, its threshold was fitted under 5
    own = with_readout(export_ckpt, predictor={"smoothing": "ema", "ema_tau_steps": 2.0},
                       uncertain_below=0.5,
                       uncertain_calibration={"smoothing": "ema", "ema_tau_steps": 5.0})
    out = tmp_path / "e.npz"
    assert run_cli("export", recording, "--model", own, "--data", out, "--to", "1",
                   "--device", "cpu", "--no-progress") == 0
    assert "note: the model's uncertain threshold 0.5 was fitted under EMA τ=5" in \
        capsys.readouterr().err
    metadata = read_npz(out)[1]
    assert metadata["predictor"]["ema_tau_steps"] == 2.0
    assert metadata["predictor"]["uncertain_below"] == 0.5
    assert "fitted under EMA τ=5 steps" in metadata["uncertain_note"]
