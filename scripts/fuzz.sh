#!/usr/bin/env bash
# libFuzzer harnesses for every parser (tests/fuzz/, docs/reliability.md).
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]  build, then fuzz each harness for SECONDS (default 60), one at a time;
#                                           new corpus entries, logs and findings go to the work folder
#   scripts/fuzz.sh --regress               build, then run the committed corpus and regression inputs once
#                                           through each harness (CI); fails on any crash, leak or hang
#   scripts/fuzz.sh --merge [HARNESS...]    add the working corpus's small inputs (<= LLAMBA_FUZZ_MERGE_MAX bytes,
#                                           default 1024) that bring new coverage to tests/fuzz/corpus/ (-merge=1)
#   scripts/fuzz.sh --build                 build only
#   scripts/fuzz.sh --list                  print the harness names
#
# Environment: LLAMBA_FUZZ_BUILD (build folder, default build-fuzz), LLAMBA_FUZZ_WORK (work folder outside the
# repository, default ../runs/fuzz next to the checkout), JOBS (compile jobs, default 2), CXX (clang++),
# FUZZ_FLAGS (extra libFuzzer flags). Each run appends a line to $LLAMBA_FUZZ_WORK/stats.tsv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${LLAMBA_FUZZ_BUILD:-$ROOT/build-fuzz}"
WORK="${LLAMBA_FUZZ_WORK:-$(dirname "$ROOT")/runs/fuzz}"
JOBS="${JOBS:-2}"
CXX="${CXX:-clang++}"
FUZZ="$ROOT/tests/fuzz"

# Harness -> dictionaries (tests/fuzz/dict/), concatenated for libFuzzer's single -dict.
declare -A DICTS=(
  [gguf]="gguf" [safetensors]="json safetensors" [hf_config]="json hf_config"
  [tokenizer_json]="json tokenizer_json" [tokenizer_config]="json tokenizer_json" [tiktoken]="tiktoken"
  [gguf_tokenizer]="gguf tokenizer_json" [tokenizer]="tokenizer" [chat_template]="chat_template tokenizer_json"
  [train_config]="json train_config" [distill_config]="json distill_config" [serve_request]="json serve_request"
)
HARNESSES=(gguf safetensors hf_config tokenizer_json tokenizer_config tiktoken gguf_tokenizer tokenizer
           chat_template train_config distill_config serve_request)

build() {
  if [[ ! -f "$BUILD/build.ninja" ]]; then
    cmake -S "$FUZZ" -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_C_COMPILER="${CXX/clang++/clang}" \
      >"$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log"; exit 1; }
    rm -f "$BUILD.configure.log"
  fi
  ninja -C "$BUILD" -j "$JOBS" >"$BUILD/ninja.log" 2>&1 || { grep -v '^\[' "$BUILD/ninja.log" | tail -40; exit 1; }
  for h in "${HARNESSES[@]}"; do [[ -x "$BUILD/bin/fuzz_$h" ]] || { echo "fuzz.sh: fuzz_$h did not build" >&2; exit 1; }; done
}

check_names() {
  for h in "$@"; do [[ -n "${DICTS[$h]:-}" ]] || { echo "fuzz.sh: unknown harness '$h' (--list)" >&2; exit 2; }; done
}

dict_for() {  # writes the concatenated dictionary of harness $1 and prints its path
  mkdir -p "$WORK/dict"
  local out="$WORK/dict/$1.dict"
  : >"$out"
  for d in ${DICTS[$1]}; do cat "$FUZZ/dict/$d.dict" >>"$out"; done
  echo "$out"
}

# The last value of `stat::<name>:` or of the last status line's `<name>: N` in a libFuzzer log.
stat_of() { grep -o "stat::$2: *[0-9]*" "$1" | tail -1 | grep -o '[0-9]*$' || echo 0; }
status_of() { grep -oE "(#[0-9]+).*$2: [0-9]+" "$1" | tail -1 | grep -oE "$2: [0-9]+" | grep -oE '[0-9]+$' || echo 0; }

regress() {
  build
  local failed=0 total=0 t0 t1
  export TMPDIR="${TMPDIR:-/tmp}"
  for h in "${HARNESSES[@]}"; do
    local files=()
    mapfile -t files < <(find "$FUZZ/corpus/$h" "$FUZZ/regressions/$h" -type f 2>/dev/null | sort)
    [[ ${#files[@]} -gt 0 ]] || { echo "fuzz.sh: no corpus for $h" >&2; exit 1; }
    local log="$BUILD/regress_$h.log"
    t0=$EPOCHREALTIME
    # File arguments are executed once each (no fuzzing); an abort, a sanitizer report, a leak or an input
    # slower than -timeout ends the run with a non-zero status.
    if "$BUILD/bin/fuzz_$h" -timeout=60 -rss_limit_mb=4096 "${files[@]}" >"$log" 2>&1; then
      t1=$EPOCHREALTIME
      printf "%-18s %4d inputs  ok     %5.1f s\n" "$h" "${#files[@]}" "$(awk "BEGIN {print $t1 - $t0}")"
    else
      failed=1
      printf "%-18s %4d inputs  FAILED (log: %s)\n" "$h" "${#files[@]}" "$log"
      grep -E "FINDING|ERROR|SUMMARY|runtime error|Running:" "$log" | tail -8 | sed 's/^/    /'
    fi
    total=$((total + ${#files[@]}))
  done
  [[ $failed -eq 0 ]] && echo "fuzz regression: $total inputs through ${#HARNESSES[@]} harnesses, no findings"
  return $failed
}

fuzz_one() {  # harness seconds
  local h=$1 secs=$2
  mkdir -p "$WORK/corpus/$h" "$WORK/artifacts/$h" "$WORK/logs" "$WORK/tmp"
  local log="$WORK/logs/$h.$(date +%Y%m%d-%H%M%S).log" dict
  dict=$(dict_for "$h")
  local seeds=("$FUZZ/corpus/$h")
  [[ -d "$FUZZ/regressions/$h" ]] && seeds+=("$FUZZ/regressions/$h")
  local before stamp="$WORK/tmp/.start_$h"
  touch "$stamp"
  before=$(find "$WORK/artifacts/$h" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  # One process (the machine is shared); new units go to the first folder, the committed seeds are read-only.
  local t0=$EPOCHREALTIME
  TMPDIR="$WORK/tmp" "$BUILD/bin/fuzz_$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 \
    -dict="$dict" -artifact_prefix="$WORK/artifacts/$h/" -print_final_stats=1 ${FUZZ_FLAGS:-} \
    "$WORK/corpus/$h" "${seeds[@]}" >"$log" 2>&1 || true
  local wall after execs cov ft corpus
  wall=$(awk "BEGIN {printf \"%d\", $EPOCHREALTIME - $t0}")
  after=$(find "$WORK/artifacts/$h" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  execs=$(stat_of "$log" number_of_executed_units)
  # A run that stopped on a finding prints no final stats: take its last status line's count.
  [[ "$execs" != 0 ]] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || echo 0)
  cov=$(status_of "$log" cov)
  ft=$(status_of "$log" ft)
  corpus=$(find "$WORK/corpus/$h" -type f | wc -l)
  printf "%-18s %6ss %12s execs %8s/s  cov %6s  ft %6s  corpus %6s  findings %s\n" "$h" "$wall" "$execs" \
    "$(stat_of "$log" average_exec_per_sec)" "$cov" "$ft" "$corpus" "$((after - before))"
  [[ -f "$WORK/stats.tsv" ]] || printf "date\tharness\tseconds\texecs\tcov\tft\tcorpus\tfindings\tlog\n" >"$WORK/stats.tsv"
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$(date -Is)" "$h" "$wall" "$execs" "$cov" "$ft" "$corpus" \
    "$((after - before))" "$log" >>"$WORK/stats.tsv"
  if [[ $after -gt $before ]]; then
    grep -E "FINDING|ERROR|SUMMARY|runtime error" "$log" | head -5 | sed 's/^/    /'
    find "$WORK/artifacts/$h" -type f -newer "$stamp" | sed 's/^/    /'
  fi
}

merge() {  # adds the working corpus's inputs that bring new coverage to tests/fuzz/corpus/<h> (-merge=1)
  build
  local max="${LLAMBA_FUZZ_MERGE_MAX:-1024}"  # bytes: only small inputs are committed, to keep the corpus small
  for h in "$@"; do
    local tmp
    tmp=$(mktemp -d)
    mkdir -p "$WORK/corpus/$h"
    find "$WORK/corpus/$h" -type f -size -$((max + 1))c -exec cp {} "$tmp/" \;
    TMPDIR="$WORK/tmp" "$BUILD/bin/fuzz_$h" -merge=1 -timeout=10 -rss_limit_mb=2560 "$FUZZ/corpus/$h" "$tmp" \
      >"$WORK/logs/merge_$h.log" 2>&1 || { echo "fuzz.sh: merge of $h failed ($WORK/logs/merge_$h.log)" >&2; exit 1; }
    rm -rf "$tmp"
    printf "%-18s %5d files %8s bytes\n" "$h" "$(find "$FUZZ/corpus/$h" -type f | wc -l)" \
      "$(du -s --apparent-size -B1 "$FUZZ/corpus/$h" | cut -f1)"
  done
}

case "${1:-}" in
  --list) printf "%s\n" "${HARNESSES[@]}" ;;
  --build) build ;;
  --regress) regress ;;
  --merge)
    shift
    names=("$@")
    [[ ${#names[@]} -gt 0 ]] || names=("${HARNESSES[@]}")
    check_names "${names[@]}"
    mkdir -p "$WORK/logs" "$WORK/tmp"
    merge "${names[@]}"
    ;;
  -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' ;;
  *)
    secs=60
    if [[ "${1:-}" =~ ^[0-9]+$ ]]; then secs=$1; shift; fi
    names=("$@")
    [[ ${#names[@]} -gt 0 ]] || names=("${HARNESSES[@]}")
    check_names "${names[@]}"
    build
    for h in "${names[@]}"; do fuzz_one "$h" "$secs"; done
    ;;
esac
