from __future__ import annotations

import numpy as np
import pytest

from live_snn.errors import CorruptFileError, SourceError
from live_snn.sources import open_source
from live_snn.sources.nmnist import NmnistDataset, NmnistSource, read_nmnist_bin


def test_dataset_lengths_and_labels(nmnist_dir):
    train, test = NmnistDataset(nmnist_dir, "Train"), NmnistDataset(nmnist_dir, "test")
    assert (len(train), len(test)) == (1000, 100)
    assert set(train.labels.tolist()) == set(range(10))
    events, label = train[123]
    assert label == int(train.files[123].parent.name)
    assert events.resolution == (34, 34) or events.resolution.width == 34
    assert events.x.max() < 34 and events.y.max() < 34 and set(np.unique(events.p)) <= {0, 1}
    assert np.all(np.diff(events.t) >= 0) and 200_000 < events.t_last < 400_000


def test_bit_layout(tmp_path):
    path = tmp_path / "one.bin"
    path.write_bytes(bytes([33, 2, 0x80 | 0x12, 0x34, 0x56, 0, 33, 0x12, 0x34, 0x57]))
    events = read_nmnist_bin(path)
    assert list(events.x) == [33, 0] and list(events.y) == [2, 33]
    assert list(events.p) == [1, 0] and list(events.t) == [0x123456, 0x123457]


def test_truncated_file(tmp_path):
    path = tmp_path / "cut.bin"
    path.write_bytes(bytes(12))
    with pytest.raises(
        CorruptFileError, match=r"cut.bin: truncated at byte 12: .* \(from byte 10\) is incomplete"
    ):
        read_nmnist_bin(path)


def test_source_and_split_errors(nmnist_dir, tmp_path):
    path = NmnistDataset(nmnist_dir, "Test").files[0]
    source = open_source(str(path))
    assert isinstance(source, NmnistSource) and source.label == int(path.parent.name)
    assert sum(len(b) for b in source) == len(read_nmnist_bin(path))
    with pytest.raises(SourceError, match="split 'Val' not found"):
        NmnistDataset(nmnist_dir, "Val")


def test_a_sample_outside_a_digit_folder_still_opens(nmnist_dir, tmp_path):
    original = NmnistDataset(nmnist_dir, "Test").files[0]
    copy = tmp_path / "sample.bin"
    copy.write_bytes(original.read_bytes())
    source = open_source(str(copy))
    assert isinstance(source, NmnistSource) and source.label is None
    assert sum(len(b) for b in source) == len(read_nmnist_bin(original))
