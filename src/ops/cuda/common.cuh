// Small device helpers shared by the CUDA kernels. The layer is compiled with --fmad=false (cmake/cuda_arch.cmake):
// a·b + c rounds twice, as the CPU ops do (they build with -ffp-contract=off), so elementwise kernels that keep
// the CPU op's order of operations give its results bit for bit wherever the library functions (expf, cos) agree.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace llamba::ops::cuda {

constexpr int kWarp = 32;

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the total. `scratch` holds
// 32 floats of shared memory. The order: each warp by a butterfly, then the warp sums by another.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, n_warps = blockDim.x / kWarp;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < n_warps ? scratch[lane] : 0.0f;
  v = warp_sum(v);
  __syncthreads();  // scratch may be reused right after
  return v;
}

inline unsigned blocks_for(int64_t n, int threads, int64_t cap = 65535LL * 16) {
  const int64_t b = (n + threads - 1) / threads;
  return (unsigned)(b < 1 ? 1 : b > cap ? cap : b);
}

}  // namespace llamba::ops::cuda
