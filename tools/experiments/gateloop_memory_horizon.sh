#!/usr/bin/env bash
# GateLoop's claim, reproduced small (docs/experiments.md): on the memory-horizon task, train GateLoop with
# complex data-controlled gates, real data-controlled gates and fixed (input-independent) complex gates — same
# width, depth, data, steps and schedule — over several seeds, then report answer accuracy by horizon.
# Usage: tools/experiments/gateloop_memory_horizon.sh [OUT_DIR]
#   env: STEPS (600), SEEDS ("1 2 3"), LENGTH (256), P_RESET (0.02), BATCH (8), THREADS, BIN. Finished runs
#   (OUT_DIR/<variant>-seed<N>/eval.csv present) are skipped, so more seeds can be added later.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-exp/gateloop_memory_horizon}
BIN=${BIN:-build/bin/llamba}
STEPS=${STEPS:-600}
SEEDS=${SEEDS:-"1 2 3"}
THREADS=${THREADS:-0}
LENGTH=${LENGTH:-256}
P_RESET=${P_RESET:-0.02}
BATCH=${BATCH:-8}
mkdir -p "$OUT"
# Sparse resets make long horizons common: the answer must be held over ~50 steps on average while other values
# stream past, and dropped at the next RESET.
[ -f "$OUT/data/meta.json" ] || "$BIN" make-task memory-horizon -o "$OUT/data" --length "$LENGTH" \
  --n-train $((768000 / LENGTH)) --n-val $((76800 / LENGTH)) --n-values 16 --p-reset "$P_RESET" --p-query 0.05 \
  --seed 1234
query=$(python3 -c "import json,sys; print(json.load(open('$OUT/data/meta.json'))['query_id'])")
for variant in complex real fixed; do
  # Same size: real gates need half the transition rows and fixed gates none, so their FFN is wider to match
  # the complex model's parameter count (93,376 / 93,312 / 93,504).
  case $variant in
    complex) transition=magphase complex=true ffn=128 ;;
    real) transition=real complex=false ffn=160 ;;
    fixed) transition=fixed complex=true ffn=192 ;;
  esac
  cat > "$OUT/$variant.json" <<JSON
{"arch": "gateloop",
 "model": {"d_model": 64, "n_layers": 2, "ffn": $ffn, "d_inner": 64, "n_heads": 4, "gate_kind": "vector",
           "transition": "$transition", "complex": $complex},
 "batch": $BATCH, "seq_len": $LENGTH, "steps": $STEPS, "lr": 3e-3, "min_lr": 3e-4, "warmup_steps": 50,
 "weight_decay": 0.1, "beta2": 0.95, "clip": 1.0, "eval_interval": 100, "eval_batches": 16,
 "log_interval": 10, "loss_after_token": $query}
JSON
  for seed in $SEEDS; do
    run="$OUT/$variant-seed$seed"
    [ -f "$run/eval.csv" ] && continue
    echo "== $variant seed $seed"
    "$BIN" train --config "$OUT/$variant.json" --data "$OUT/data" -o "$run" --seed "$seed" -t "$THREADS" -q
    "$BIN" eval-task -m "$run/checkpoint.gguf" --data "$OUT/data" -t "$THREADS" > "$run/eval.csv"
  done
done
python3 tools/experiments/collate_memory_horizon.py "$OUT"
