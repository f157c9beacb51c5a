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

# N-MNIST: 100 of the 1000 training digits held out (holdout=100, the same for every run) to
# pick the checkpoint (best.safetensors = best held-out streaming accuracy); the 100 test
# digits are only used by `live-snn eval` afterwards. Then the two baselines, same settings.
NM="--data nmnist:$DATA/nmnist-small,holdout=100 --preset nmnist --channels 64 --hidden 256
    --dropout 0.2 --dt-ms 30 --grace-ms 50 --batch-size 16 --lr 5e-3 --max-shift 3 --ema-tau 2
    --epochs 40 --threads $THREADS --seed 0"
$LS train $NM --attention causal --window 24 --burn-in 6 --eval-every 175 --out "$RUNS/nmnist_c64"
# Calibrate the readout on the held-out digits; this is the bundled file.
$LS eval --model "$RUNS/nmnist_c64/best.safetensors" --data "nmnist:$DATA/nmnist-small,holdout=100" \
  --split val --calibrate-out live_snn/assets/nmnist_causal.safetensors
$LS train $NM --attention none --window 24 --burn-in 6 --eval-every 175 --out "$RUNS/nmnist_none"
$LS train $NM --attention window --window 11 --burn-in 3 --eval-every 387 --out "$RUNS/nmnist_window"

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
