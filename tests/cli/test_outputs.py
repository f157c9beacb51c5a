"""No command writes over its input or another output, and an output that cannot be
written is refused before any work, in one line (issue #13, cases 1 and 6)."""

from __future__ import annotations

import errno
import hashlib
import shutil

import pytest

from live_snn.cli import main
from live_snn.errors import LiveSnnError
from live_snn.outputs import NamedPath, OutputError, atomic_output, check_outputs


@pytest.fixture
def recording(gesture_sample, tmp_path):
    return shutil.copy(gesture_sample, tmp_path / "REC.aedat4")


def digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.mark.parametrize("argv", [
    ["run", "{rec}", "--summary-json", "{rec}"],
    ["run", "{rec}", "--jsonl", "{rec}"],
    ["run", "{rec}", "--jsonl", "{out}", "--summary-json", "{out}"],
    ["run", "{rec}", "--jsonl", "{model}"],
    ["eval", "--model", "{model}", "--data", "files:{rec}", "--json", "{rec}"],
    ["record", "{rec}", "{rec}", "--overwrite"],
])
def test_an_output_over_an_input_or_another_output_is_refused_before_anything_runs(
        argv, recording, causal_ckpt, tmp_path, capsys):
    model = shutil.copy(causal_ckpt, tmp_path / "model.safetensors")
    before = digest(recording), digest(model)
    names = {"rec": recording, "model": model, "out": tmp_path / "out.json"}
    argv = [a.format(**names) for a in argv]
    if argv[0] == "run":
        argv += ["--model", str(model), "--device", "cpu", "--speed", "max", "--quiet"]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2
    assert "refusing to write over an input" in captured.err or "are the same file" in \
        captured.err or "is the source" in captured.err, captured.err
    assert len(captured.err.strip().splitlines()) == 1 and "state:" not in captured.out
    assert (digest(recording), digest(model)) == before
    assert not (tmp_path / "out.json").exists()


def test_an_existing_recording_is_not_replaced_without_overwrite(recording, tmp_path):
    other = shutil.copy(recording, tmp_path / "other.aedat4")
    with pytest.raises(OutputError, match="is an existing recording: refusing to replace it"):
        check_outputs([NamedPath("--jsonl", other)])
    check_outputs([NamedPath("--jsonl", other)], overwrite=True)


@pytest.mark.parametrize(("target", "reason"), [
    ("/proc/1/summary.json", "cannot create files in /proc/1"),
    ("{tmp}/missing/summary.json", "folder .*missing does not exist"),
    ("{tmp}", "it is a folder"),
])
def test_an_unwritable_output_is_one_line_before_the_run(target, reason, recording, causal_ckpt,
                                                         tmp_path, capsys):
    import re

    target = target.format(tmp=tmp_path)
    code = main(["run", str(recording), "--model", str(causal_ckpt), "--device", "cpu",
                 "--speed", "max", "--quiet", "--summary-json", target])
    captured = capsys.readouterr()
    assert code == 2 and re.search(reason, captured.err), captured.err
    assert len(captured.err.strip().splitlines()) == 1 and "state:" not in captured.out


@pytest.mark.parametrize(("code", "reason"), [
    (errno.EROFS, "Read-only file system"),
    (errno.ENOSPC, "No space left on device"),
    (errno.EACCES, "Permission denied"),
])
def test_a_folder_that_takes_no_new_file_is_refused_by_its_probe(code, reason, tmp_path,
                                                                  monkeypatch):
    """A read-only or full folder (a permission check says nothing to root or about a full
    disk): the probe file cannot be created, the output is refused in one line naming the
    option and the reason, and nothing is left behind."""
    import os
    import pathlib

    real_open = pathlib.Path.open

    def refuse_probe(self, *args, **kwargs):
        if ".probe-" in self.name:
            raise OSError(code, os.strerror(code))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", refuse_probe)
    target = tmp_path / "summary.json"
    import re

    with pytest.raises(OutputError, match=rf"^--summary-json {re.escape(str(target))}: cannot "
                                          rf"create files in {re.escape(str(tmp_path))}: "
                                          rf"{reason}$"):
        check_outputs([NamedPath("--summary-json", target)])
    assert list(tmp_path.iterdir()) == []


def test_a_failed_atomic_write_leaves_nothing(tmp_path):
    target = tmp_path / "report.json"
    with pytest.raises(OutputError, match=r"cannot write the report to .*report\.json: No space"), \
            atomic_output(target, "report") as tmp:
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_writing_predictions_ends_the_run_in_one_line(recording, causal_ckpt,
                                                                        tmp_path, monkeypatch,
                                                                        capsys):
    """Streaming output keeps the lines written so far and names the reason."""
    from live_snn.sinks import jsonl

    real_write = jsonl.PredictionWriter.write

    def write_until_full(self, prediction):
        if self.lines >= 5:
            raise LiveSnnError(f"cannot write predictions to {self.path}: No space left on "
                               f"device (after {self.lines} bins, which are in the file)")
        real_write(self, prediction)

    monkeypatch.setattr(jsonl.PredictionWriter, "write", write_until_full)
    out = tmp_path / "p.jsonl"
    code = main(["run", str(recording), "--model", str(causal_ckpt), "--device", "cpu",
                 "--speed", "max", "--quiet", "--jsonl", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "No space left on device (after 5 bins" in err
    assert "Traceback" not in err
    assert len(out.read_text().splitlines()) == 6  # the header and the five bins


def test_prediction_writer_turns_a_write_error_into_one_line(tmp_path):
    from live_snn.sinks.jsonl import PredictionWriter

    class FullDisk:
        def __init__(self):
            self.file = open(tmp_path / "p.jsonl", "w", encoding="utf-8")  # noqa: SIM115

        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

        def fileno(self):
            return self.file.fileno()

        def close(self):
            self.file.close()

    writer = PredictionWriter.__new__(PredictionWriter)
    writer.path, writer.lines, writer._file = tmp_path / "p.jsonl", 3, FullDisk()
    writer.bytes_written = 0
    with pytest.raises(LiveSnnError, match=r"No space left on device \(after 3 bins"):
        writer._write({"type": "bin"})


def test_a_disk_that_fills_in_the_middle_of_a_line_leaves_only_whole_lines(tmp_path):
    """The disk fills after half of a bin's line reached it: the file is cut back to the
    lines before, so every line in it is whole JSON (the header and the bins it names)."""
    import json

    from live_snn.sinks.jsonl import PredictionWriter

    path = tmp_path / "p.jsonl"
    header = {"type": "header", "format": "live_snn.predictions/1"}

    class FillsUp:
        def __init__(self):
            self.file, self.budget = open(path, "w", encoding="utf-8"), 150  # noqa: SIM115

        def write(self, text):
            if len(text) > self.budget:  # what fits reaches the disk, then the disk is full
                self.file.write(text[: self.budget])
                self.file.flush()
                raise OSError(errno.ENOSPC, "No space left on device")
            self.budget -= len(text)
            self.file.write(text)
            self.file.flush()

        def fileno(self):
            return self.file.fileno()

        def close(self):
            self.file.close()

    writer = PredictionWriter.__new__(PredictionWriter)
    writer.path, writer.lines, writer.bytes_written, writer._file = path, 0, 0, FillsUp()
    writer._write(header)
    bins = 0
    with pytest.raises(LiveSnnError, match=r"No space left on device \(after (\d+) bins"):
        for k in range(100):
            writer._write({"type": "bin", "bin": k, "probs": [0.125] * 4})
            writer.lines = bins = bins + 1
    lines = path.read_text().split("\n")
    assert lines[-1] == ""  # ends with a newline: no half line
    assert [json.loads(line) for line in lines[:-1]] == [header] + [
        {"type": "bin", "bin": k, "probs": [0.125] * 4} for k in range(bins)]
    assert 0 < bins < 100
