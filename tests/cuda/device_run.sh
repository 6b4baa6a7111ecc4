#!/usr/bin/env bash
# Runs the CUDA op tests on a GPU machine that has no build tools or Debian libraries of ours: from a bundle made
# on a build machine by tests/cuda/make_bundle.sh (the stripped test binary, libfmt, libhwy, OpenBLAS and its
# Fortran runtime, and a libstdc++ used only where the machine's is older than g++ 12's). cuBLAS comes from the
# machine's CUDA 13 (toolkit or pip wheel). Logs go to $OUT (or /tmp/llamba_cuda_out); TIMING=1 adds the timing
# table. Usage:
#   tests/cuda/device_run.sh [bundle.tar.xz] [extra gtest flags...]
set -u
bundle=${1:-build-cuda/carry/bundle.tar.xz}
shift || true
out=${OUT:-/tmp/llamba_cuda_out}
mkdir -p "$out"
dir=/tmp/llamba_cuda
rm -rf "$dir" && mkdir -p "$dir" && tar -C "$dir" -xJf "$bundle" || exit 2
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv | tee "$out/gpu.txt"
cublas=$(find /usr/local /usr/lib /opt -name 'libcublasLt.so.13*' 2>/dev/null | head -1)
libs="$dir/lib:$(dirname "${cublas:-/usr/local/cuda/lib64/x}")"
sys_cxx=$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')
if [ -z "$sys_cxx" ] || ! grep -q GLIBCXX_3.4.30 "$sys_cxx"; then libs="$libs:$dir/compat"; fi
export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "cuBLAS: ${cublas:-not found}; LD_LIBRARY_PATH=$LD_LIBRARY_PATH" | tee "$out/env.txt"
ldd "$dir/test_cuda_ops" >>"$out/env.txt" 2>&1
"$dir/test_cuda_ops" --gtest_output="xml:$out/test_cuda_ops.xml" "$@" 2>&1 | tee "$out/test_cuda_ops.log"
rc=${PIPESTATUS[0]}
if [ -x "$dir/test_cuda_forward_ops" ]; then
  "$dir/test_cuda_forward_ops" 2>&1 | tee "$out/test_cuda_forward_ops.log"
  rc_fwd=${PIPESTATUS[0]}
  [ "$rc" = 0 ] && rc=$rc_fwd
fi
# The model tests read their fixtures from this copy of the repository.
if [ -x "$dir/test_cuda_models" ]; then
  LLAMBA_SOURCE_DIR=$(pwd) "$dir/test_cuda_models" --gtest_output="xml:$out/test_cuda_models.xml" 2>&1 |
    tee "$out/test_cuda_models.log"
  rc_models=${PIPESTATUS[0]}
  [ "$rc" = 0 ] && rc=$rc_models
  if command -v compute-sanitizer >/dev/null; then
    LLAMBA_SOURCE_DIR=$(pwd) compute-sanitizer --tool memcheck "$dir/test_cuda_models" \
      --gtest_filter='*g_lt_h*:*Greedy*' >"$out/memcheck_models.log" 2>&1
    echo "memcheck (models) rc=$? $(grep -E 'ERROR SUMMARY' "$out/memcheck_models.log" | tr '\n' ' ')"
  fi
fi
# Out-of-bounds accesses and shared-memory races, on the tests small enough to run under the tools quickly.
if command -v compute-sanitizer >/dev/null; then
  compute-sanitizer --tool memcheck --leak-check full "$dir/test_cuda_ops" --gtest_filter='-*LargeShapes*' \
    >"$out/memcheck.log" 2>&1
  echo "memcheck rc=$? $(grep -E 'ERROR SUMMARY|PASSED|FAILED' "$out/memcheck.log" | tr '\n' ' ')"
  compute-sanitizer --tool racecheck "$dir/test_cuda_ops" --gtest_filter='*RmsNorm*:*Rope*' >"$out/racecheck.log" 2>&1
  echo "racecheck rc=$? $(grep -E 'RACECHECK SUMMARY|ERROR SUMMARY|PASSED|FAILED' "$out/racecheck.log" | tr '\n' ' ')"
fi
# The timing table (docs/cuda.md), with TIMING=1.
if [ "${TIMING:-0}" = 1 ]; then
  "$dir/test_cuda_ops" --gtest_also_run_disabled_tests --gtest_filter='*Timing*' 2>&1 | grep '^|' | tee "$out/timing.md"
  [ -x "$dir/test_cuda_models" ] && "$dir/test_cuda_models" --gtest_also_run_disabled_tests --gtest_filter='*Timing*' \
    2>&1 | grep '^|' | tee -a "$out/timing.md"
  [ -x "$dir/test_cuda_models_timing" ] && "$dir/test_cuda_models_timing" --gtest_also_run_disabled_tests \
    2>&1 | tee "$out/timing_bf16.log" | grep '^|' | tee -a "$out/timing.md"
fi
exit "$rc"
