#!/usr/bin/env bash
# The training runs behind docs/results.md, in order, on a CPU (add --device cuda on a GPU).
# Every run is resumable: re-run the same line with --resume after an interruption.
# Binned simulator sessions are cached under $CACHE (not in the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${LIVE_SNN_SHARED_DATA:-../shared/data}
RUNS=${RUNS:-runs}
CACHE=${CACHE:-/tmp/live_snn_cache}
THREADS=${THREADS:-1}
LS=.venv/bin/live-snn

# N-MNIST, causal TCJA, then the window-mode and no-attention baselines.
for attention in causal window none; do
  window=40; burn=10
  if [ "$attention" = window ]; then window=10; burn=0; fi
  $LS train --data "nmnist:$DATA/nmnist-small" --preset nmnist --attention "$attention" \
    --dt-ms 10 --window $window --burn-in $burn --grace-ms 50 --batch-size 16 --epochs 6 \
    --lr 3e-3 --eval-every 130 --threads "$THREADS" --seed 0 --out "$RUNS/nmnist_$attention"
done

# Simulated gestures, lite causal TCJA (the bundled default model).
SIM="--data sim:seeds=0-23,duration=30 --val-data sim:seeds=10000-10002,duration=30"
COMMON="--preset lite --dt-ms 20 --window 20 --burn-in 4 --grace-ms 100 --batch-size 8 \
  --steps 400 --lr 2e-3 --eval-every 100 --max-shift 4 --threads $THREADS --seed 0 \
  --cache $CACHE --workers 2"
$LS train $SIM $COMMON --attention causal --out "$RUNS/sim_lite_causal"

# Ablations: same data, seed and learning-rate schedule, stopped early (--max-steps-this-run)
# so that they can be compared with the causal run's validation at the same step.
$LS train $SIM $COMMON --attention none --max-steps-this-run 100 --out "$RUNS/sim_lite_none"
$LS train $SIM $COMMON --attention tim --max-steps-this-run 100 --out "$RUNS/sim_lite_tim"
$LS train $SIM $COMMON --attention none --encoder gac --max-steps-this-run 100 \
  --out "$RUNS/sim_lite_gac"
