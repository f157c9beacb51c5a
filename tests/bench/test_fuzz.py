"""The CI subset of the fuzz harness (``live-snn bench fuzz``): a few seeded mutations of
real recordings and of a real stream, with every promise of docs/reliability.md checked."""

from __future__ import annotations

from live_snn.bench.fuzz import run_fuzz
from live_snn.bench.fuzz_report import FuzzConfig


def test_a_seeded_subset_finds_nothing_wrong(recordings_dir, tmp_path):
    report = run_fuzz(FuzzConfig(files=6, streams=2, seed=13, workers=1, timeout_s=60,
                                 recordings=recordings_dir, work=tmp_path))
    assert report.files == 6 and report.streams == 2 and report.jobs == 6 * 3 + 2 * 2
    assert report.clean, report.summary() + "\n" + "\n".join(
        report.hangs + report.native_crashes + report.tracebacks + report.disagreements
        + report.differs_from_dv)
    assert report.good_files + report.damaged_files == 6
