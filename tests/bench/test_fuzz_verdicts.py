"""The fuzz harness's verdict check: commands that disagree on a file, and files called
good whose events differ from dv-processing's decode."""

from __future__ import annotations

from live_snn.bench.fuzz_report import FuzzReport
from live_snn.bench.fuzz_verdicts import check_verdicts


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
