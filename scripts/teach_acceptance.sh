#!/usr/bin/env bash
# Issue #15's acceptance in one command: record a new simulated person and three new classes
# with `live-snn teach record`, fine-tune with `live-snn teach train` (timed), score the bundled
# and the taught models on fresh takes with `live-snn eval`; writes
# docs/results/teach_acceptance.json and the teach sections of docs/results.md and
# docs/benchmarks.md. Options: --compare (the recipe's alternatives), --out DIR, --no-docs.
# Re-run it whenever the bundled model changes.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python scripts/teach_acceptance.py "$@"
