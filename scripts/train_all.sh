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

# Simulated gestures, lite causal TCJA: the bundled default model, in four stages, each
# starting from the previous one's weights (--init-from). Stage 1 is the first release
# (docs/results.md lists the schedule changes it had on its resumes); stage 2 was stopped at
# step 1250 of its 3500-step schedule (--max-steps-this-run 1250 reproduces it). Stages 1-3
# validated on seeds 10000-10002, stage 4 on 10000-10009.
SIM="--cache $CACHE --workers 2 --preset lite
     --dt-ms 20 --window 20 --burn-in 4 --grace-ms 100 --batch-size 8 --max-shift 4
     --threads $THREADS --attention causal"
VAL3="--val-data sim:seeds=10000-10002,duration=30"
VAL10="--val-data sim:seeds=10000-10009,duration=30"
$LS train $SIM $VAL3 --data sim:seeds=0-23,duration=30 --lr 2e-3 --eval-every 50 --seed 0 \
  --steps 1650 --out "$RUNS/sim_lite_causal"
$LS train $SIM $VAL3 --data sim:seeds=0-47,duration=30 --lr 1e-3 --warmup-steps 50 \
  --eval-every 250 --seed 1 --steps 3500 --max-steps-this-run 1250 \
  --init-from "$RUNS/sim_lite_causal/last.safetensors" --out "$RUNS/sim_lite_more_data"
$LS train $SIM $VAL3 --data sim:seeds=0-47,duration=30 --lr 7e-4 --warmup-steps 20 \
  --eval-every 200 --seed 2 --steps 1800 --time-reverse 0.5 \
  --init-from "$RUNS/sim_lite_more_data/last.safetensors" --out "$RUNS/sim_lite_time_reverse"
$LS train $SIM $VAL10 --data sim:seeds=0-71,duration=30 --lr 5e-4 --warmup-steps 20 \
  --eval-every 250 --seed 3 --steps 3000 --time-reverse 0.5 \
  --init-from "$RUNS/sim_lite_time_reverse/best.safetensors" --out "$RUNS/sim_lite_stage4"
# (Stage 4 was the bundled file until the simulator was made realistic.)

# Stage 5, the bundled default model: the realistic simulator (3-D person, DVS128-like
# sensor, lighting), seeds 0-95, continuing stage 4's kept weights, with the transfer
# augmentations (event drop-out, noise, zoom, rotation, time stretch) and time reversal.
# Rule fixed before any test: keep best.safetensors (best streaming accuracy on the
# validation seeds 10000-10009), calibrate on them, then score fresh seeds 60000-60009 once.
$LS train $SIM $VAL10 --data sim:seeds=0-95,duration=30 --lr 1e-3 --warmup-steps 50 \
  --eval-every 250 --seed 5 --steps 4000 --time-reverse 0.5 \
  --augment dropout=0.3,noise=2,scale=0.15,rotate=10,stretch=0.2 \
  --init-from "$RUNS/sim_lite_stage4/best.safetensors" --out "$RUNS/sim_real_stage5" \
  --max-steps-this-run 2000
# (It ran 500 steps, then --resume for 1500 more with --max-steps-this-run 1500, and was
# stopped at step 2000 of the 4000-step schedule by the session's time: the kept checkpoint
# is the best of the validations at steps 250-2000, step 2000.)
# Stage 5 calibrated on the validation seeds: the bundled file until stage 7, and what the
# later stages are compared with.
$LS eval --model "$RUNS/sim_real_stage5/best.safetensors" \
  --data sim:seeds=10000-10009,duration=30 --cache "$CACHE" \
  --calibrate-out "$RUNS/sim_real_stage5/calibrated.safetensors"

# Stage 6: a sooner answer. Stage 5's kept weights, on the
# simulator as changed on 2026-12-05 (seeds 0-95 simulated afresh), with half the windows
# placed on a gesture's start and the loss starting 40 ms into it (validation still scores
# from 100 ms, as before). Rule fixed before it ran: keep the validation with the lowest onset
# median among those with streaming accuracy >= 97 % on seeds 10000-10009 (--keep), calibrate
# on the same seeds, then score fresh seeds 62000-62009 once.
$LS train $SIM $VAL10 --data sim:seeds=0-95,duration=30 --lr 5e-4 --warmup-steps 20 \
  --eval-every 200 --seed 6 --steps 1200 --time-reverse 0.5 \
  --augment dropout=0.3,noise=2,scale=0.15,rotate=10,stretch=0.2 \
  --onset-windows 0.5 --loss-grace-ms 40 --keep fastest:0.97 \
  --init-from "$RUNS/sim_real_stage5/best.safetensors" --out "$RUNS/sim_real_stage6"
$LS eval --model "$RUNS/sim_real_stage6/best.safetensors" \
  --data sim:seeds=10000-10009,duration=30 --cache "$CACHE" \
  --calibrate-out "$RUNS/sim_real_stage6/calibrated.safetensors"
# (Kept: step 1200, validation 100 %, onset 180 ms; on fresh test seeds 62000-62009, once:
# 96.1 %, onset 240 ms.) Stage 7: more of the same, from stage 6's kept weights: three
# windows in four on a gesture's start, the loss from its first bin. Rule fixed before it
# ran: its kept checkpoint (same --keep) replaces stage 6 as the bundled model only if its
# validation onset median is below stage 6's 180 ms; either way both are then scored once on
# fresh seeds 63000-63009.
$LS train $SIM $VAL10 --data sim:seeds=0-95,duration=30 --lr 3e-4 --warmup-steps 20 \
  --eval-every 200 --seed 7 --steps 1200 --time-reverse 0.5 \
  --augment dropout=0.3,noise=2,scale=0.15,rotate=10,stretch=0.2 \
  --onset-windows 0.75 --loss-grace-ms 0 --keep fastest:0.97 \
  --init-from "$RUNS/sim_real_stage6/best.safetensors" --out "$RUNS/sim_real_stage7"
# (Kept: step 1200, validation 98.0 %, onset 160 ms: below stage 6's, so stage 7 is the
# bundled model.) Calibrate its readout's confidence scale on the validation seeds; this is
# the bundled file.
$LS eval --model "$RUNS/sim_real_stage7/best.safetensors" \
  --data sim:seeds=10000-10009,duration=30 --cache "$CACHE" \
  --calibrate-out "$RUNS/sim_real_stage7/calibrated.safetensors"
# (Stage 7 on fresh seeds 63000-63009, once: 93.9 %, onset 200 ms.) Ten validation seeds
# (101 gestures) proved too few to choose by: test medians came out 40 ms above validation's.
# On thirty (10000-10029, 301 gestures; measured 2026-12-05, default predictor): stage 5
# 96.4 % / 320 ms, stage 6 98.3 % / 200 ms, stage 7 96.0 % / 180 ms.
VAL30="--val-data sim:seeds=10000-10029,duration=30"
# Stage 8: stage 7's kept weights with stage 6's mix (half the windows on a start, the loss
# from 40 ms) at a lower rate, validated on the thirty seeds. Rule fixed before it ran: the
# bundled model is whichever of stages 6, 7 and 8 (kept checkpoints) has the lowest onset
# median on seeds 10000-10029 among those with streaming accuracy >= 97 % there (ties: the
# more accurate; none: the most accurate); it is calibrated on those seeds. Then stages 5-8
# are scored once on fresh seeds 64000-64029 (about 300 gestures), all reported.
$LS train $SIM $VAL30 --data sim:seeds=0-95,duration=30 --lr 2e-4 --warmup-steps 20 \
  --eval-every 400 --seed 8 --steps 1600 --time-reverse 0.5 \
  --augment dropout=0.3,noise=2,scale=0.15,rotate=10,stretch=0.2 \
  --onset-windows 0.5 --loss-grace-ms 40 --keep fastest:0.97 \
  --init-from "$RUNS/sim_real_stage7/best.safetensors" --out "$RUNS/sim_real_stage8"
# (Kept: step 1200 of 400/800/1200/1600, validation 98.3 % / 180 ms on seeds 10000-10029
# (step 400 97.0 % / 180, 800 96.7 % / 200, 1600 97.7 % / 200). Among stages 6-8 it has the
# lowest onset median with >= 97 % there, so stage 8 is the bundled model.) Calibrate its
# readout's confidence scale on the thirty validation seeds; this was the bundled file
# (the same command as below without --ema-tau 2, i.e. under EMA 5).
# (Then, once, on fresh seeds 64000-64029, 300 gestures, each stage calibrated as shipped:
# stage 5 97.0 % / 320 ms, stage 6 95.0 % / 220, stage 7 93.3 % / 200, stage 8 96.3 % / 180.)
# (Since 2026-12-05 the calibration also fits the "uncertain" threshold, by the rule in
# live_snn/train/uncertainty.py fixed before its first run: 0.47 for stage 8, the same
# weights and scale; on seeds 64000-64029 rests 90.3 % uncertain, gesture steps 5.9 %.)
# The smoothing (2026-12-05). Rule written down before the sweep ran (committed with its
# results, before the test seeds were run): for EMA tau in 1, 2, 3, 5 steps,
# calibrate on seeds 10000-10029 at that tau (scale and threshold by the committed rules),
# then eval the calibrated copy there at that tau; keep the tau with the lowest onset median
# as shown (uncertain = no answer) among those whose accuracy as shown is within 1 point of
# tau 5's and that show >= 90 % of the rests uncertain; ties: the larger tau. Validation:
# tau 5 260 ms, 3 220, 2 200, 1 200 (docs/results.md): tau 2, the bundled file since, which
# carries tau 2 as its own smoothing. Then scored once on seeds 64000-64029.
$LS eval --model "$RUNS/sim_real_stage8/best.safetensors" \
  --data sim:seeds=10000-10029,duration=30 --cache "$CACHE" --ema-tau 2 \
  --calibrate-out live_snn/assets/default_lite.safetensors

# Ablations: from scratch, same data (seeds 0-23), seed and 600-step schedule, stage 1's
# settings, validated on seeds 10000-10009; GAC (2-3x slower per step) stopped after 300 steps.
# Two at a time on this 2-core machine (THREADS=1).
ABL="$SIM $VAL10 --data sim:seeds=0-23,duration=30 --lr 2e-3 --eval-every 150 --seed 0 --steps 600"
$LS train $ABL --out "$RUNS/sim_ablation_causal"
$LS train ${ABL/--attention causal/--attention none} --out "$RUNS/sim_ablation_none"
$LS train ${ABL/--attention causal/--attention tim} --out "$RUNS/sim_ablation_tim"
$LS train ${ABL/--attention causal/--attention none} --encoder gac --max-steps-this-run 300 \
  --out "$RUNS/sim_ablation_gac"
