#!/usr/bin/env bash
# The comparisons of docs/distillation.md at one small token budget each (default 32,768 = 32 steps of 4 × 256):
#   mohawk        stages 1, 2, 3 (1/8, 2/8, 5/8 of the budget) from MOHAWK's mixer init
#   attention     the same from the attention-derived init (x ← W_v, B ← W_k, C ← W_q, out ← W_o)
#   stage3        stage 3 alone on the whole budget (MOHAWK init: embedding, norms, MLPs from the teacher)
#   scratch       a Llamba of the same shape from a random init (`distill init --init random`: nothing of the
#                 teacher but its tokenizer), next-token loss only (`llamba train`), lr 1e-3
# then WikiText-2 perplexity, KL to the teacher and top-1 agreement of each. Needs the shards of
# scripts/distill_smollm2.sh. Usage: scripts/distill_ablations.sh RUN_DIR [TOKENS]
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:?usage: scripts/distill_ablations.sh RUN_DIR [TOKENS]}
tokens=${2:-32768}
chunks=${EVAL_CHUNKS:-40}
bin=${LLAMBA_BIN:-build/bin/llamba}  # a copy keeps every variant on one binary while the tree is rebuilt
teacher=models/SmolLM2-135M-Instruct.Q4_1.gguf
shards=$run/shards
[ -f "$shards/meta.json" ] || { echo "no shards in $shards: run scripts/distill_smollm2.sh $run first" >&2; exit 1; }
mkdir -p "$run/ablations"
python3 - "$run/ablations" "$tokens" <<'PY'
import json, sys
out, total = sys.argv[1], int(sys.argv[2])
stage = lambda s, frac, lr: {"stage": s, "tokens": int(total * frac), "batch": 4, "seq_len": 256, "lr": lr}
three = [stage(1, 1 / 8, 1e-3), stage(2, 2 / 8, 3e-4), stage(3, 5 / 8, 1e-4)]
cfgs = {"mohawk": {"init": "mohawk", "stages": three}, "attention": {"init": "attention", "stages": three},
        "stage3": {"init": "mohawk", "stages": [stage(3, 1.0, 1e-4)]}}
for name, c in cfgs.items():
    c.update({"checkpoint_interval": 1000, "seed": 1})
    json.dump(c, open(f"{out}/{name}.json", "w"), indent=1)
json.dump({"arch": "llamba", "steps": total // 1024, "batch": 4, "seq_len": 256, "lr": 1e-3,
           "schedule": "wsd", "warmup_steps": max(1, total // 10240), "checkpoint_interval": 1000, "seed": 1},
          open(f"{out}/scratch.json", "w"), indent=1)
PY
for v in mohawk attention stage3; do
  [ -f "$run/ablations/$v/student.gguf" ] && continue
  resume=()
  [ -f "$run/ablations/$v/checkpoint.gguf" ] && resume=(--resume)
  "$bin" distill -q --teacher "$teacher" --data "$shards" --config "$run/ablations/$v.json" -o "$run/ablations/$v" \
    "${resume[@]}" | tee "$run/ablations/$v.txt"
done
if [ ! -f "$run/ablations/scratch/done" ]; then
  [ -f "$run/ablations/scratch_init.gguf" ] ||
    "$bin" distill init --teacher "$teacher" --init random -o "$run/ablations/scratch_init.gguf"
  "$bin" train -q --config "$run/ablations/scratch.json" --data "$shards" -o "$run/ablations/scratch" \
    --init "$run/ablations/scratch_init.gguf" | tee "$run/ablations/scratch.txt"
  touch "$run/ablations/scratch/done"
fi
wiki=data/corpus/wikitext2_test.txt.xz
echo "| variant ($tokens tokens) | WikiText-2 PPL | mean KL(teacher ‖ model) | same top-1 as the teacher |"
echo "|---|---|---|---|"
for v in mohawk attention stage3 scratch; do
  m=$run/ablations/$v/student.gguf
  [ "$v" = scratch ] && m=$run/ablations/scratch/checkpoint.gguf
  "$bin" eval perplexity -q --json -m "$m" -f "$wiki" -c 512 --chunks "$chunks" --kl-base "$teacher" |
    python3 -c "import json,sys; r=json.load(sys.stdin); k=r['kl']; print('| $v | %.2f ± %.2f | %.4f | %.1f %% |' % (r['ppl']['value'], r['ppl']['error'], k['mean']['value'], 100 * k['same_top']['value']))"
done
