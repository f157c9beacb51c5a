#!/usr/bin/env bash
# One prepared check for a CUDA machine (issue 17), meant to finish in under 8 minutes:
#   1. the CUDA tests (pytest -m gpu: CUDA graph, masked graph, batched rows on CUDA)
#   2. live-snn bench model    --device cuda (paper and lite, batch 1 and 8)
#   3. live-snn bench pipeline --device cuda (paper)
#   4. live-snn bench streams  --device cuda (paper, then lite), dt 20 and 10 ms; paper again
#      with bfloat16 convolutions (--conv-dtype bfloat16)
#   5. a 200-step AMP training run (lite, simulated sessions)
# Every figure goes to one file, OUT (default gpu_check_<host>_<date>.md); each step has a
# time limit (under 8 minutes in all), and a step that fails or times out is noted there and the next one runs.
# Usage, from the repository root with the venv set up (a CUDA build of torch):
#   scripts/gpu_check.sh [OUT]
# It has not been run yet: no GPU was lent to the session that wrote it.
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
LIVE=.venv/bin/live-snn
OUT=${1:-gpu_check_$(hostname)_$(date +%Y%m%d_%H%M).md}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

if ! $PY -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    echo "gpu_check: no CUDA device (torch.cuda.is_available() is False)" >&2
    exit 2
fi

{
    echo "# GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    $PY -c 'import torch, platform; print(f"Machine: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}, Python {platform.python_version()}")'
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
} > "$OUT"

step() {  # step TITLE SECONDS COMMAND...
    local title=$1 limit=$2
    shift 2
    echo "== $title (limit ${limit}s)" >&2
    local started=$SECONDS
    {
        echo
        echo "## $title"
        echo
        echo "\`$*\`"
        echo
        echo '```'
    } >> "$OUT"
    timeout "$limit" "$@" > "$TMP/log" 2>&1
    local rc=$?
    tail -n 80 "$TMP/log" >> "$OUT"
    {
        echo '```'
        echo
        echo "exit status $rc after $((SECONDS - started)) s$([ $rc = 124 ] && echo ' (timed out)')"
    } >> "$OUT"
}

export QT_QPA_PLATFORM=offscreen
step "CUDA tests" 90 $PY -m pytest -q -m gpu tests
step "bench model (cuda)" 55 $LIVE bench model --presets paper,lite --batch 1,8 --device cuda --repeats 3 --steps 50 --malloc default
step "bench pipeline (cuda, paper)" 50 $LIVE bench pipeline --device cuda --preset paper --seconds 30 --baseline-seconds 2
step "bench streams (cuda, paper)" 100 $LIVE bench streams --device cuda --preset paper --counts 8,32 --separate-counts 4 --dt-ms 10,20 --seconds 6
step "bench streams (cuda, lite)" 60 $LIVE bench streams --device cuda --preset lite --counts 32 --separate-counts 8 --dt-ms 10 --seconds 6
step "bench streams (cuda, paper, bfloat16 convolutions)" 40 $LIVE bench streams --device cuda --preset paper --counts 32 --separate-counts '' --dt-ms 10 --seconds 6 --conv-dtype bfloat16
step "training, 200 AMP steps (cuda, lite)" 80 $LIVE train --data sim:seeds=0-3,duration=10 --val-data sim:seeds=10000-10000,duration=10 --preset lite --steps 200 --eval-every 200 --device cuda --workers 4 --out "$TMP/train"
echo "figures written to $OUT" >&2
