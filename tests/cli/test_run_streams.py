"""``live-snn run SRC1 SRC2 ...``: several sources through one model, one JSONL per stream,
one summary with a row per stream and the totals; a stream that dies is reported on its own
row while the others go on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from live_snn.cli import main
from live_snn.model.inference import bfloat16_is_native
from live_snn.sinks.jsonl import read_predictions

RECORDINGS = ("dvsgesture_sample_01.aedat4", "dvsgesture_sample_02.aedat4")


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: one intra-op thread (see tests/engine/conftest.py)
    yield
    torch.set_num_threads(threads)


def scores(path) -> tuple[list[int], np.ndarray, int]:
    _, bins = read_predictions(path)
    return [b["bin"] for b in bins], np.array([b["scores"] for b in bins]), \
        sum(b["events"] for b in bins)


BFLOAT16 = pytest.param("bfloat16", marks=pytest.mark.skipif(
    not bfloat16_is_native(torch.device("cpu")), reason="this CPU has no bfloat16 instructions"))


@pytest.mark.parametrize("conv_dtype", ["float32", BFLOAT16])
def test_recordings_batched_write_what_each_run_alone_writes(recordings_dir, causal_ckpt,
                                                             tmp_path, capsys, conv_dtype):
    paths = [str(recordings_dir / name) for name in RECORDINGS]
    common = ["--model", str(causal_ckpt), "--device", "cpu", "--speed", "max", "--quiet",
              "--conv-dtype", conv_dtype]
    folder, summary = tmp_path / "streams", tmp_path / "summary.json"
    code = main(["run", *paths, paths[0], *common, "--jsonl-dir", str(folder),
                 "--summary-json", str(summary)])
    out, err = capsys.readouterr()
    assert code == 0, err
    names = ["dvsgesture_sample_01", "dvsgesture_sample_02", "dvsgesture_sample_01-2"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.jsonl" for n in names)
    for name, path in zip(names, [*paths, paths[0]], strict=True):
        alone = tmp_path / f"{name}-alone.jsonl"
        assert main(["run", path, *common, "--jsonl", str(alone)]) == 0
        bins, batched, events = scores(folder / f"{name}.jsonl")
        alone_bins, expected, alone_events = scores(alone)
        assert bins == alone_bins and events == alone_events
        assert np.abs(batched - expected).max() <= 1e-5, name
    record = json.loads(summary.read_text())
    assert record["conv_dtype"] == conv_dtype
    assert [row["name"] for row in record["streams"]] == names
    assert all(row["state"] == "finished" and row["error"] is None for row in record["streams"])
    assert record["totals"]["bins"] == sum(row["bins"] for row in record["streams"])
    assert record["totals"]["batching"]["max_streams_per_step"] == 3
    assert record["streams"][1]["jsonl"] == str(folder / "dvsgesture_sample_02.jsonl")
    assert "streams: 3, 0 ended early" in out and "3.00 streams per step" in out


def test_three_tcp_streams_one_dies_the_others_go_on(recordings_dir, causal_ckpt, dv_server,
                                                     tmp_path, capsys, tcp_ports, read_line):
    ports = tcp_ports(3)
    recording = recordings_dir / RECORDINGS[0]
    servers = [dv_server(recording, str(port), then=then)
               for port, then in zip(ports, ["hold", "hold", "exit"], strict=True)]
    specs = [f"tcp://127.0.0.1:{port}" for port in ports]
    folder, summary = tmp_path / "streams", tmp_path / "summary.json"
    code = main(["run", *specs, "--model", str(causal_ckpt), "--device", "cpu", "--quiet",
                 "--backpressure", "process-all", "--duration", "14", "--jsonl-dir",
                 str(folder), "--summary-json", str(summary)])
    err = capsys.readouterr().err
    assert code == 1 and f"tcp_127.0.0.1_{ports[2]} ended early" in err
    served = [int(read_line(s, 60, "served").split()[1]) for s in servers]
    rows = {row["name"]: row for row in json.loads(summary.read_text())["streams"]}
    for port, n in zip(ports[:2], served[:2], strict=True):
        name = f"tcp_127.0.0.1_{port}"
        _, bins = read_predictions(folder / f"{name}.jsonl")
        assert sum(b["events"] for b in bins) == n == rows[name]["events_in"], name
        assert rows[name]["state"] == "stopped" and rows[name]["error"] is None
        # they went on to their last event while the dead one was being retried (how fast
        # is a benchmark's question, `live-snn bench streams`, not a test's)
    dead = rows[f"tcp_127.0.0.1_{ports[2]}"]
    assert dead["state"] == "finished" and dead["events_in"] == served[2]
    assert "connection lost: the server closed the stream" in dead["error"]
    assert f"{served[2]} events before that were delivered" in dead["error"]
    assert f"gave up on {specs[2]} after 3 reconnection attempts" in dead["error"]
    kinds = [event["kind"] for event in dead["history"]]
    assert kinds.count("reconnecting") == 3 and kinds[-1] == "finished"
    _, bins = read_predictions(folder / f"tcp_127.0.0.1_{ports[2]}.jsonl")
    assert sum(b["events"] for b in bins) == served[2]


def test_several_sources_need_a_folder_for_their_predictions(recordings_dir, causal_ckpt,
                                                             tmp_path, capsys):
    path = str(recordings_dir / RECORDINGS[0])
    code = main(["run", path, path, "--model", str(causal_ckpt), "--jsonl",
                 str(tmp_path / "p.jsonl")])
    assert code == 2 and "use --jsonl-dir DIR" in capsys.readouterr().err
    folder = tmp_path / "one"
    code = main(["run", path, "--model", str(causal_ckpt), "--device", "cpu", "--speed", "max",
                 "--quiet", "--jsonl-dir", str(folder)])
    assert code == 0
    header, bins = read_predictions(folder / "dvsgesture_sample_01.jsonl")
    assert header["source"].startswith("dvsgesture_sample_01") and len(bins) == 145


def test_bfloat16_refused_before_any_stream_file_is_written(recordings_dir, causal_ckpt,
                                                            tmp_path, capsys, monkeypatch):
    from live_snn.engine import runner

    monkeypatch.setattr(runner, "bfloat16_is_native", lambda device: False)
    path = str(recordings_dir / RECORDINGS[0])
    folder = tmp_path / "streams"
    code = main(["run", path, path, "--model", str(causal_ckpt), "--device", "cpu", "--quiet",
                 "--conv-dtype", "bfloat16", "--jsonl-dir", str(folder)])
    err = capsys.readouterr().err
    assert code == 2 and "this CPU has no bfloat16 instructions" in err
    assert not folder.exists() or not any(folder.iterdir())


def test_several_streams_say_the_smoothing_and_a_threshold_fitted_under_another(
        causal_ckpt, with_readout, tmp_path, capsys):
    bundled = Path(__file__).resolve().parents[2] / "recordings"
    paths = [str(bundled / f"demo_seed30000_000{k}.aedat4") for k in (0, 1)]
    own = with_readout(causal_ckpt, uncertain_below=0.5,
                       uncertain_calibration={"smoothing": "ema", "ema_tau_steps": 5.0})
    code = main(["run", *paths, "--model", str(own), "--device", "cpu", "--speed", "max",
                 "--quiet", "--jsonl-dir", str(tmp_path / "streams"), "--tau", "3"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "2 streams batched; EMA τ=3 steps, uncertain below confidence 0.5" in err
    assert "note: the model's uncertain threshold 0.5 was fitted under EMA τ=5 steps" in err
