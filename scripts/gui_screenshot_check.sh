#!/usr/bin/env bash
# Open the real window under a virtual X server on a real recording, save a screenshot and
# check that it is not blank (many colours, events drawn in both polarities).
# Assumes xvfb-run and the xcb libraries are installed (the CI installs them) and that
# `live-snn` is on PATH (scripts/test.sh puts .venv/bin first).
# Usage: scripts/gui_screenshot_check.sh [RECORDING.aedat4] [CHECKPOINT.safetensors]
set -euo pipefail
cd "$(dirname "$0")/.."

LIVE_SNN=$(command -v live-snn) || { echo "gui_screenshot_check: live-snn not on PATH" >&2; exit 1; }
PYTHON="$(dirname "$LIVE_SNN")/python"
SHARED=${LIVE_SNN_SHARED_DATA:-../shared/data}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

recording=${1:-}
if [ -z "$recording" ]; then
    for candidate in "$SHARED/recordings/dvs128_arms_a.aedat4" "$SHARED"/recordings/*.aedat4 recordings/*.aedat4; do
        if [ -f "$candidate" ]; then recording=$candidate; break; fi
    done
fi
[ -n "$recording" ] || { echo "gui_screenshot_check: no real recording found in $SHARED/recordings or recordings/" >&2; exit 1; }

model=${2:-live_snn/assets/default_lite.safetensors}
if [ ! -f "$model" ]; then
    # No bundled model yet: random weights scaled so every layer fires exercise every panel.
    model="$WORK/random_lite.safetensors"
    "$PYTHON" -c 'import sys; from live_snn.bench.active_model import write_active_random_checkpoint as w; w(sys.argv[1])' "$model"
fi

shot="$WORK/gui.png"
echo "gui_screenshot_check: $recording with $model"
# A real X window: no offscreen platform.
env -u QT_QPA_PLATFORM xvfb-run -a -s "-screen 0 1920x1080x24" \
    "$LIVE_SNN" gui "$recording" --model "$model" --screenshot "$shot" --quit-after 5
"$PYTHON" -m live_snn_ui.screenshot_check "$shot"
