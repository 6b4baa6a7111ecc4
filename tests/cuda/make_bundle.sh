#!/usr/bin/env bash
# Builds the CUDA test binaries in build-cuda/ (-DLLAMBA_CUDA=ON, only the targets they need) and packs them with
# the shared libraries a GPU machine without our Debian packages lacks into build-cuda/carry/bundle.tar.xz, for
# tests/cuda/device_run.sh (the fixtures come from the repository copy there). Run from the repository root.
set -eu
jobs=${JOBS:-2}
cmake -S . -B build-cuda -DLLAMBA_CUDA=ON -DLLAMBA_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
bins="test_cuda_ops test_cuda_forward_ops test_cuda_models test_cuda_models_timing"
cmake --build build-cuda -j"$jobs" --target $bins
b=build-cuda/bundle
rm -rf "$b" && mkdir -p "$b/lib" "$b/compat" build-cuda/carry
for bin in $bins; do
  cp build-cuda/bin/$bin "$b/" && strip "$b/$bin"
  # Every shared library but glibc's, the GCC runtime, the CUDA driver and cuBLAS (the GPU machine has those);
  # libstdc++ only as a fallback.
  ldd build-cuda/bin/$bin | awk '$3 ~ /^\// {print $1, $3}' | while read -r name path; do
    case "$name" in
      libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libgcc_s.so*|ld-linux*|libcuda.so*|libcublas*) ;;
      libstdc++.so*) cp -L "$path" "$b/compat/" ;;
      *) cp -L "$path" "$b/lib/" ;;
    esac
  done
done
tar -C "$b" -cJf build-cuda/carry/bundle.tar.xz .
ls -l build-cuda/carry/bundle.tar.xz
