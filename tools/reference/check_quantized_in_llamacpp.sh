#!/usr/bin/env bash
# Checks that files written by `llamba quantize` load and run in llama.cpp, for the llama and mamba2
# architectures: each type is quantized by llamba and by llama-quantize (the two files must be byte-identical),
# then both engines compute the perplexity of the same text on llamba's file. Never run by CI (needs a llama.cpp
# build; see docs/quality.md).
#   tools/reference/check_quantized_in_llamacpp.sh LLAMA_CPP_BIN_DIR TEXT_FILE [PYTHON]
set -euo pipefail
bin=${1:?llama.cpp bin dir}; text=${2:?text file}; py=${3:-python3}
cd "$(dirname "$0")/../.."
llamba=build/bin/llamba
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
head -c 20000 "$text" > "$work/text.txt"
"$py" tools/reference/add_byte_vocab.py tests/fixtures/mamba2/groups2.llamacpp.gguf "$work/mamba2.gguf"
ppl() { grep -o 'Final estimate: PPL = [0-9.]*' | awk '{print $NF}'; }
printf '%-8s %-6s %-10s %22s %22s\n' arch type bytes "llamba ppl" "llama-perplexity ppl"
for type in F32 F16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K; do
  "$llamba" quantize "$work/mamba2.gguf" "$work/ll.gguf" "$type" > /dev/null 2>&1
  "$bin/llama-quantize" "$work/mamba2.gguf" "$work/lc.gguf" "$type" > /dev/null 2>&1
  cmp -s "$work/ll.gguf" "$work/lc.gguf" && same=identical || same=DIFFER
  a=$("$llamba" eval perplexity -m "$work/ll.gguf" -f "$work/text.txt" -c 64 --chunks 20 -q -t 1 2>/dev/null | ppl)
  b=$("$bin/llama-perplexity" -m "$work/ll.gguf" -f "$work/text.txt" -c 64 -b 64 --chunks 20 -t 1 2>&1 | ppl)
  printf '%-8s %-6s %-10s %22s %22s\n' mamba2 "$type" "$same" "$a" "$b"
done
