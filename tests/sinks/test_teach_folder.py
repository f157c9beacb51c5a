"""Reading a taught-session folder: what it refuses, in one line, touching nothing."""

from __future__ import annotations

import json

import pytest

from live_snn.errors import CorruptFileError
from live_snn.sinks.teach_folder import (
    LABELS_FILE,
    META_FILE,
    RECORDING_FILE,
    TeachFolderError,
    read_teach_folder,
)


def make(tmp_path, *, labels="class,startTime_usec,endTime_usec\n1,100,200\n",
         names=("a", "b"), recording=True):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / META_FILE).write_text(json.dumps({"class_names": list(names)}))
    if labels is not None:
        (folder / LABELS_FILE).write_text(labels)
    if recording:
        (folder / RECORDING_FILE).write_bytes(b"")
    return folder


def test_reads_names_and_labels(tmp_path):
    folder = read_teach_folder(make(tmp_path), span_us=(0, 1000))
    assert folder.class_names == ("a", "b") and folder.takes_per_class() == {"a": 1, "b": 0}


def test_a_folder_without_labels_is_not_a_session(tmp_path):
    folder = make(tmp_path, labels=None)
    with pytest.raises(TeachFolderError, match=f"has no {LABELS_FILE}") as caught:
        read_teach_folder(folder)
    assert "\n" not in str(caught.value)


def test_labels_outside_the_recording_name_the_line(tmp_path):
    folder = make(tmp_path, labels="class,startTime_usec,endTime_usec\n1,100,200\n2,900,5000\n")
    with pytest.raises(CorruptFileError, match="line 3: take 900..5000 µs lies outside"):
        read_teach_folder(folder, span_us=(0, 1000))


@pytest.mark.parametrize("names, words", [((), "class_names"), (("a", "A"), "repeat"),
                                          (("x" * 65,), "printable characters")])
def test_bad_class_names_are_refused(tmp_path, names, words):
    with pytest.raises(CorruptFileError, match=words):
        read_teach_folder(make(tmp_path, names=names))


def test_a_class_number_beyond_the_names_is_refused(tmp_path):
    with pytest.raises(CorruptFileError, match="class 3 outside 1..2"):
        read_teach_folder(make(tmp_path, labels="class,startTime_usec,endTime_usec\n3,1,2\n"))
