#!/usr/bin/env bash
# Install everything (with the test tools) and run the whole test suite, lint and the layer
# contract (.importlinter) included.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
.venv/bin/ruff check live_snn ui tests
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest -q "$@"
if command -v xvfb-run >/dev/null 2>&1; then
    PATH="$PWD/.venv/bin:$PATH" scripts/gui_screenshot_check.sh
else
    echo "test.sh: xvfb-run not available; real-window screenshot check skipped"
fi
