#!/usr/bin/env bash
# Runs every test: the layer check, all ctest tests of the Release build (build/), then the same tests built
# with ASan + UBSan (build-asan/, tests labelled `slow` excluded there). Options:
#   --quick     Release tests only
#   --sanitize  sanitizer pass only
set -euo pipefail
cd "$(dirname "$0")/.."
release=1 sanitize=1
for a in "$@"; do
  case "$a" in
    --quick) sanitize=0 ;;
    --sanitize) release=0 ;;
    *) echo "usage: scripts/test.sh [--quick | --sanitize]" >&2; exit 2 ;;
  esac
done
jobs=$(nproc)
scripts/check_layers.sh
scripts/get_model.sh
if [ $release -eq 1 ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$jobs"
  ctest --test-dir build -L 'cpu|slow' --output-on-failure -j"$jobs"
fi
if [ $sanitize -eq 1 ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLAMBA_SANITIZE="address;undefined" \
    -DLLAMBA_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -L cpu --output-on-failure -j"$jobs"
fi
echo "scripts/test.sh: all tests passed"
