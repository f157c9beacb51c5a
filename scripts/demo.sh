#!/usr/bin/env bash
# Install everything, then open the GUI replaying a bundled recording with the bundled model.
# Without a display it falls back to the headless replay and prints predictions.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/live-snn gui "$@"
