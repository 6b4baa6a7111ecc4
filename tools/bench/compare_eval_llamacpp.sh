#!/usr/bin/env bash
# `llamba eval perplexity` beside llama.cpp's `llama-perplexity` on the same files, in one run, each engine twice,
# alternating (docs/quality.md "Speed"). Never run by CI (needs a llama.cpp build; see docs/quality.md).
#   tools/bench/compare_eval_llamacpp.sh LLAMA_CPP_BIN_DIR TEXT_FILE MODEL.gguf... [-- CHUNKS]
set -euo pipefail
bin=${1:?llama.cpp bin dir}; text=${2:?text file}; shift 2
cd "$(dirname "$0")/../.."
chunks=16 models=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then chunks=${2:?chunks}; break; fi
  models+=("$1"); shift
done
for m in "${models[@]}"; do
  for rep in 1 2; do
    lc=$("$bin/llama-perplexity" -m "$m" -f "$text" -c 512 --chunks "$chunks" -t 2 2>&1)
    echo "llama-perplexity $m: $(grep -o 'Final estimate: PPL = [0-9.]*' <<<"$lc") | $(grep -o '[0-9.]* seconds per pass' <<<"$lc")"
    ll=$(build/bin/llamba eval perplexity -m "$m" -f "$text" -c 512 --chunks "$chunks" -t 2 -q 2>&1)
    echo "llamba eval perplexity $m: $(grep -o 'Final estimate: PPL = [0-9.]*' <<<"$ll") | $(grep -o 'speed.*' <<<"$ll")"
  done
done
