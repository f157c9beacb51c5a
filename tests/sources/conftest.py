"""Helpers for the source tests: the test-only file writers and DV stream server live
beside the tests; scenarios that a regression could hang forever (dv-processing spinning
with the GIL held) run in a child process under a deadline."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture
def run_isolated():
    """Run Python ``code`` in a fresh interpreter; it must print one JSON line last.

    The deadline holds even if the code hangs with the GIL held, which a thread could not
    guarantee."""

    def run(code: str, *, deadline_s: float = 60.0) -> dict:
        try:
            done = subprocess.run(
                [sys.executable, "-c", textwrap.dedent(code)],
                capture_output=True,
                text=True,
                timeout=deadline_s,
                cwd=REPO_ROOT,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"did not finish within {deadline_s} s (hang)")
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run
