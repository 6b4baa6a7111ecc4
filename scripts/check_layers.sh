#!/usr/bin/env bash
# Layers point downward only (docs/architecture.md): a layer may include itself and the layers listed after it.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
check() {  # check <folder> <allowed include prefixes...>
  local dir=$1; shift
  [ -d "src/$dir" ] || return 0
  local allowed; allowed=$(printf '%s|' "$@"); allowed=${allowed%|}
  local bad
  bad=$(grep -rnE '#include *"[a-z_]+/' "src/$dir" | grep -vE "#include *\"($allowed)/" || true)
  if [ -n "$bad" ]; then
    echo "check_layers: src/$dir includes a layer above it:"; echo "$bad"; status=1
  fi
}
check core core
check io io core
check quant quant core
check quantize quantize io quant core
check tokenizer tokenizer io core
check ops ops quant core
check models models ops tokenizer io quant core
check runtime runtime models ops tokenizer io quant core
check eval eval runtime models ops tokenizer io quant core
check train train runtime models ops tokenizer io quant core
check distill distill train runtime models ops tokenizer io quant core
check bench bench runtime models ops tokenizer io quant core
check serve serve runtime models ops tokenizer io quant core
[ $status -eq 0 ] && echo "check_layers: ok"
exit $status
