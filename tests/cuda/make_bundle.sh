#!/usr/bin/env bash
# Builds test_cuda_ops in build-cuda/ (-DLLAMBA_CUDA=ON, only the targets it needs) and packs it with the shared
# libraries a GPU machine without our Debian packages lacks into build-cuda/carry/bundle.tar.xz (~6 MB), for
# tests/cuda/device_run.sh. Run from the repository root.
set -eu
jobs=${JOBS:-2}
cmake -S . -B build-cuda -DLLAMBA_CUDA=ON -DLLAMBA_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-cuda -j"$jobs" --target test_cuda_ops
b=build-cuda/bundle
rm -rf "$b" && mkdir -p "$b/lib" "$b/compat" build-cuda/carry
cp build-cuda/bin/test_cuda_ops "$b/" && strip "$b/test_cuda_ops"
for lib in libfmt.so.9 libhwy.so.1 libopenblas.so.0 libgfortran.so.5 libquadmath.so.0; do
  cp -L "$(ldd build-cuda/bin/test_cuda_ops | awk -v l="$lib" '$1 == l {print $3}')" "$b/lib/"
done
cp -L "$(ldd build-cuda/bin/test_cuda_ops | awk '$1 == "libstdc++.so.6" {print $3}')" "$b/compat/"
tar -C "$b" -cJf build-cuda/carry/bundle.tar.xz .
ls -l build-cuda/carry/bundle.tar.xz
