"""``scripts/gpu_check.sh`` runs only where a GPU is lent, for a few minutes at most: every
``live-snn`` command it runs must still be one the CLI accepts, so that a renamed option is
found here and not on the GPU machine's clock."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from live_snn.cli import build_parser
from live_snn.cli.bench import benchmark_parser

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu_check.sh"
STEP = re.compile(r'^step "(?P<title>[^"]+)" (?P<limit>\d+) (?P<command>.+)$')


def steps() -> list[tuple[str, list[str]]]:
    found = []
    for line in SCRIPT.read_text().splitlines():
        match = STEP.match(line.strip())
        if match:
            command = shlex.split(match["command"].replace('"$TMP/train"', "TMP/train"))
            found.append((match["title"], command))
    return found


def test_the_script_has_its_steps():
    titles = [title for title, _ in steps()]
    assert len(titles) == 7 and titles[0] == "CUDA tests"
    assert sum(limit for limit in map(int, re.findall(r'^step "[^"]+" (\d+)', SCRIPT.read_text(),
                                                       flags=re.M))) <= 8 * 60


@pytest.mark.parametrize("title, command", [s for s in steps() if s[1][0] == "$LIVE"],
                         ids=lambda value: value if isinstance(value, str) else "")
def test_each_live_snn_command_parses(title, command):
    argv = command[1:]
    args = build_parser(argv).parse_args(argv)  # SystemExit (a failure) on an unknown option
    if argv[0] == "bench":  # a benchmark parses its own options when it runs
        benchmark_parser(args.benchmark).parse_args(args.options)
