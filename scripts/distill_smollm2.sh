#!/usr/bin/env bash
# The SmolLM2-135M → Llamba-135M MOHAWK run of docs/distillation.md: shards from data/corpus (Brown, State of the
# Union, Tiny Shakespeare; the teacher's tokenizer), the three stages with scripts/distill/smollm2_135m.json, then
# WikiText-2 perplexity and KL to the teacher for the teacher, the untrained student and each stage's student.
# Re-running continues a killed run (--resume). Usage: scripts/distill_smollm2.sh [RUN_DIR] [CONFIG]
#   RUN_DIR  default /tmp/llamba-distill-smollm2 (outside the repository: checkpoints are ~1.7 GB)
#   EVAL_CHUNKS=N  WikiText-2 chunks of 512 tokens scored per model (default 40)
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:-/tmp/llamba-distill-smollm2}
config=${2:-scripts/distill/smollm2_135m.json}
chunks=${EVAL_CHUNKS:-40}
bin=build/bin/llamba
teacher=models/SmolLM2-135M-Instruct.Q4_1.gguf
[ -x "$bin" ] || { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j"$(nproc)"; }
scripts/get_model.sh
mkdir -p "$run"
if [ ! -f "$run/shards/meta.json" ]; then
  "$bin" prepare-data -t "$teacher" data/corpus/brown.txt.xz data/corpus/sotu.txt.xz \
    data/corpus/tinyshakespeare.txt.xz -o "$run/shards" --val-fraction 0.01
fi
resume=()
[ -f "$run/out/checkpoint.gguf" ] && resume=(--resume)
"$bin" distill --teacher "$teacher" --data "$run/shards" --config "$config" -o "$run/out" "${resume[@]}"
[ -f "$run/init.gguf" ] || "$bin" distill init --teacher "$teacher" -o "$run/init.gguf"

wiki=data/corpus/wikitext2_test.txt.xz
echo "| model | WikiText-2 PPL | mean KL(teacher ‖ model) | same top-1 as the teacher |"
echo "|---|---|---|---|"
for m in "$teacher" "$run/init.gguf" "$run"/out/stage1.gguf "$run"/out/stage2.gguf "$run"/out/stage3.gguf; do
  [ -f "$m" ] || continue
  "$bin" eval perplexity -q --json -m "$m" -f "$wiki" -c 512 --chunks "$chunks" --kl-base "$teacher" |
    python3 -c "import json,sys; r=json.load(sys.stdin); k=r['kl']; print('| $(basename "$m") | %.2f ± %.2f | %.4f | %.1f %% |' % (r['ppl']['value'], r['ppl']['error'], k['mean']['value'], 100 * k['same_top']['value']))"
done
