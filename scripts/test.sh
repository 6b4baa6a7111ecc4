#!/usr/bin/env bash
# Runs every test: the layer check, all ctest tests of the Release build (build/), the server through the
# openai Python client and its chat page in headless Chromium (tests/serve/python), the Python package installed
# with pip into a fresh venv and its pytest suite (tests/python), the CUDA layer's build, the fuzz corpora once
# through each parser (scripts/fuzz.sh --regress), then the same tests built
# with ASan + UBSan (build-asan/, tests labelled `slow` excluded there), then the tests labelled for
# ThreadSanitizer built with it (build-tsan/: only those test targets). Each phase prints its wall time. Options:
#   --quick     Release tests only
#   --sanitize  ASan + UBSan pass only
#   --tsan      ThreadSanitizer pass only
set -euo pipefail
cd "$(dirname "$0")/.."
release=1 sanitize=1 tsan=1
for a in "$@"; do
  case "$a" in
    --quick) sanitize=0 tsan=0 ;;
    --sanitize) release=0 tsan=0 ;;
    --tsan) release=0 sanitize=0 ;;
    *) echo "usage: scripts/test.sh [--quick | --sanitize | --tsan]" >&2; exit 2 ;;
  esac
done
jobs=$(nproc)
phase() { echo "scripts/test.sh: $1 took $((SECONDS - t0)) s"; t0=$SECONDS; }
t0=$SECONDS
scripts/check_layers.sh
scripts/get_model.sh
if [ $release -eq 1 ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$jobs"
  phase "Release build"
  ctest --test-dir build -L 'cpu|slow' --output-on-failure -j"$jobs"
  phase "Release tests"
  # `llamba serve` through the real openai client (pinned), in a venv of its own.
  venv=build/venv-serve
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/serve/python/requirements.txt
  "$venv/bin/python" -W error::ResourceWarning tests/serve/python/test_openai_client.py build/bin/llamba \
    models/SmolLM2-135M-Instruct.Q4_1.gguf
  "$venv/bin/python" tests/serve/python/test_web_page.py build/bin/llamba models/SmolLM2-135M-Instruct.Q4_1.gguf
  phase "OpenAI client and chat page tests"
  # The Python package as a user installs it: a fresh venv, `pip install .` (its CMake build stays in
  # build/python, so this is incremental after the first time), then pytest.
  venv=build/venv-py
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/python/requirements.txt
  PIP_CONSTRAINT=tests/python/build-constraints.txt CMAKE_BUILD_PARALLEL_LEVEL=$jobs \
    "$venv/bin/pip" install -q --disable-pip-version-check .
  phase "Python package install"
  "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/python
  phase "Python package tests"
  # The CUDA layer (nvcc is on every machine here, a GPU on few): it must compile, and its tests skip cleanly
  # without a GPU (they ran on an H100: docs/cuda.md).
  cmake -S . -B build-cuda -DLLAMBA_CUDA=ON -DLLAMBA_BUILD_BENCH=OFF >/dev/null
  cmake --build build-cuda -j"$jobs" --target test_cuda_ops test_cuda_forward_ops test_cuda_models
  for t in test_cuda_ops test_cuda_forward_ops test_cuda_models; do build-cuda/bin/$t; done
  phase "CUDA build and (skipping) tests"
  # Every parser's libFuzzer harness (clang, ASan + UBSan, build-fuzz/) over the committed corpus and findings.
  scripts/fuzz.sh --regress
  phase "fuzz regression"
fi
if [ $sanitize -eq 1 ]; then
  # -O1 -g1: 1.8-2.5x less compile time than -O2 -g on the heavy files, and line tables are enough for ASan's
  # stack traces.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
    -DLLAMBA_SANITIZE="address;undefined" -DLLAMBA_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j"$jobs"
  phase "sanitizer build"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -L cpu --output-on-failure -j"$jobs"
  phase "sanitizer tests"
fi
if [ $tsan -eq 1 ]; then
  # ThreadSanitizer over the tests that run code on several threads (LLAMBA_TSAN_TESTS in tests/CMakeLists.txt,
  # label `tsan`): only their targets and the layers they link are built, at -O1 -g1 as above. Without
  # Highway's per-target copies (HWY_COMPILE_ONLY_STATIC: the baseline SIMD target only), the kernels split work
  # across threads exactly as in the other builds. TSan stops at the first report (halt_on_error).
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG -DHWY_COMPILE_ONLY_STATIC" \
    -DLLAMBA_SANITIZE=thread -DLLAMBA_BUILD_BENCH=OFF >/dev/null
  cmake --build build-tsan -j"$jobs" --target tsan_tests
  phase "ThreadSanitizer build"
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    ctest --test-dir build-tsan -L tsan --output-on-failure -j"$jobs"
  phase "ThreadSanitizer tests"
fi
echo "scripts/test.sh: all tests passed"
