"""The CI subset of the fuzz harness (``live-snn bench fuzz``): a few seeded mutations of
real recordings and of a real stream, with every promise of docs/reliability.md checked."""

from __future__ import annotations

import numpy as np

from live_snn.bench.fuzz import FuzzConfig, FuzzReport, check_verdicts, mutate, run_fuzz


def test_a_seeded_subset_finds_nothing_wrong(recordings_dir, tmp_path):
    report = run_fuzz(FuzzConfig(files=6, streams=2, seed=13, workers=1, timeout_s=60,
                                 recordings=recordings_dir, work=tmp_path))
    assert report.files == 6 and report.streams == 2 and report.jobs == 6 * 3 + 2 * 2
    assert report.clean, report.summary() + "\n" + "\n".join(
        report.hangs + report.native_crashes + report.tracebacks + report.disagreements
        + report.differs_from_dv)
    assert report.good_files + report.damaged_files == 6


def test_mutations_are_reproducible():
    data = bytes(range(256)) * 64
    one = mutate(data, np.random.default_rng(5), protect=32, packets=[64], event_bytes=[100])
    two = mutate(data, np.random.default_rng(5), protect=32, packets=[64], event_bytes=[100])
    assert one == two and one[0] != data


def test_the_verdict_check_catches_what_it_is_there_to_catch():
    report = FuzzReport()
    check_verdicts("a", {"info": "good:10", "run": "good:10", "record": "damaged at packet 1"},
                None, (10, "x"), report)
    check_verdicts("b", {"info": "good:10", "run": "good:10", "record": "good:10"}, "y",
                (10, "x"), report)
    check_verdicts("c", {"info": "good:9", "run": "n/a", "record": "good:9"}, "x", (10, "x"),
                report)
    assert len(report.disagreements) == 1 and len(report.differs_from_dv) == 2
    assert not report.clean
