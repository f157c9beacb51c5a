#!/usr/bin/env bash
# The training runs behind docs/results.md, on a CPU (add --device cuda on a GPU, and more
# steps). Every run resumes exactly: re-run the same line with --resume after an interruption.
# Binned simulator sessions are cached under $CACHE (never in the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${LIVE_SNN_SHARED_DATA:-../shared/data}
RUNS=${RUNS:-runs}
CACHE=${CACHE:-/tmp/live_snn_cache}
THREADS=${THREADS:-1}
LS=.venv/bin/live-snn

# N-MNIST: the kept causal model, then the baselines (stopped early on the 15-epoch schedule).
NM="--data nmnist:$DATA/nmnist-small --preset nmnist --dropout 0.1 --dt-ms 30 --grace-ms 50
    --batch-size 16 --lr 5e-3 --threads $THREADS --seed 0"
$LS train $NM --attention causal --max-shift 3 --window 24 --burn-in 6 --epochs 30 \
  --eval-every 195 --ema-tau 2 --out "$RUNS/nmnist_causal_aug30"
$LS train $NM --attention causal --window 24 --burn-in 6 --epochs 15 --eval-every 100 \
  --out "$RUNS/nmnist_causal_d01"
$LS train $NM --attention window --window 11 --burn-in 3 --epochs 15 --eval-every 100 \
  --max-steps-this-run 430 --out "$RUNS/nmnist_window"
for attention in none tim; do
  $LS train $NM --attention $attention --window 24 --burn-in 6 --epochs 15 --eval-every 100 \
    --max-steps-this-run 200 --out "$RUNS/nmnist_$attention"
done
$LS train $NM --attention none --encoder gac --window 24 --burn-in 6 --epochs 15 \
  --eval-every 100 --max-steps-this-run 100 --out "$RUNS/nmnist_gac"

# Simulated gestures, lite causal TCJA (the bundled default model; docs/results.md lists the
# schedule changes the release run had on its resumes).
SIM="--data sim:seeds=0-23,duration=30 --val-data sim:seeds=10000-10002,duration=30
     --cache $CACHE --workers 2 --preset lite --dt-ms 20 --window 20 --burn-in 4
     --grace-ms 100 --batch-size 8 --lr 2e-3 --eval-every 50 --max-shift 4 --seed 0
     --threads $THREADS"
$LS train $SIM --steps 1650 --attention causal --out "$RUNS/sim_lite_causal"
# Calibrate the readout's confidence scale on the validation seeds; this is the bundled file.
$LS eval --model "$RUNS/sim_lite_causal/best.safetensors" --data sim:seeds=10000-10002,duration=30 \
  --cache "$CACHE" --calibrate-out live_snn/assets/default_lite.safetensors

# Ablations: same data, seed and schedule, stopped after 150 steps to compare validations.
$LS train $SIM --steps 400 --attention none --max-steps-this-run 150 --out "$RUNS/sim_lite_none"
$LS train $SIM --steps 400 --attention tim --max-steps-this-run 150 --out "$RUNS/sim_lite_tim"
$LS train $SIM --steps 400 --attention none --encoder gac --max-steps-this-run 150 \
  --out "$RUNS/sim_lite_gac"
