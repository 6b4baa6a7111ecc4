#!/usr/bin/env bash
# Builds the peer for tools/bench/compare_llamacpp.py: llama.cpp through the PyPI package llama-cpp-python==0.3.36
# (compiled from its sdist on install) into a venv outside the repository, with the x86 SIMD level this CPU really
# runs: AVX-512 (+VNNI, BF16) where /proc/cpuinfo lists it, else AVX2/FMA/F16C. AMX is always off: the Xeons here
# list it but fault on its instructions, and GGML_NATIVE=ON would enable it. Never run by CI.
#   tools/bench/install_llamacpp.sh [VENV]   (default /work/venv-bench)
set -euo pipefail
venv=${1:-/work/venv-bench}
cd "$(dirname "$0")"
flags="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
has() { grep -qw "$1" /proc/cpuinfo; }
if has avx512f && has avx512_vnni && has avx512_bf16; then
  flags+=" -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON"
elif has avx2 && has fma; then
  flags+=" -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF"
fi
echo "install_llamacpp: CMAKE_ARGS=$flags"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r compare_requirements.txt
CMAKE_ARGS="$flags" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
  "$venv/bin/pip" install --no-binary llama-cpp-python --no-cache-dir llama-cpp-python==0.3.36
"$venv/bin/python" -c "import llama_cpp; print('install_llamacpp: llama_cpp', llama_cpp.__version__)"
