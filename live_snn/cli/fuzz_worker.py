"""Runs ``live-snn`` commands one after another in one process, for the fuzz harness
(:mod:`live_snn.bench.fuzz`), so that torch and dv-processing are imported once, not once per
command. Reads one JSON job per line on stdin (``{"argv": [...]}``) and answers one JSON line
per job: ``rc``, ``out``, ``err`` and ``traceback`` (an exception that escaped the command).
A native crash kills this process; the harness sees its stdout end and counts it."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback


def run_job(argv: list[str]) -> dict:
    from live_snn.cli import main

    out, err = io.StringIO(), io.StringIO()
    escaped = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 2
        except BaseException:  # what the harness is looking for: reported, not re-raised
            rc = -1
            escaped = traceback.format_exc()
    return {"rc": rc, "out": out.getvalue(), "err": err.getvalue(), "traceback": escaped}


def main() -> int:
    import torch

    torch.set_num_threads(1)
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    for line in sys.stdin:
        job = json.loads(line)
        answers.write(json.dumps(run_job(job["argv"])) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
