// rmsnorm forward on the GPU: one block per row; the sum of squares in fp32 (each thread a strided partial sum,
// then block_sum), then y = w · (x · r) with r = 1 / sqrt(ss / D + eps), both as the CPU op rounds them.
#include "ops/cuda/common.cuh"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda::kernels {

namespace {

__global__ void rmsnorm_forward_kernel(float* y, int64_t ldy, const float* x, int64_t ldx, const float* w, int64_t D,
                                       float eps) {
  __shared__ float scratch[kWarp];
  const float* xr = x + (int64_t)blockIdx.x * ldx;
  float* yr = y + (int64_t)blockIdx.x * ldy;
  float ss = 0.0f;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) ss += xr[i] * xr[i];
  ss = block_sum(ss, scratch);  // every read of x is done before any write of y (y may alias x)
  const float r = 1.0f / sqrtf(ss / (float)D + eps);
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) yr[i] = w[i] * (xr[i] * r);
}

}  // namespace

cudaError_t rmsnorm_forward(cudaStream_t s, float* y, int64_t ldy, const float* x, int64_t ldx, const float* w,
                            int64_t M, int64_t D, float eps) {
  if (M == 0) return cudaSuccess;
  const int threads = D >= 1024 ? 256 : D >= 256 ? 128 : 32;
  rmsnorm_forward_kernel<<<(unsigned)M, threads, 0, s>>>(y, ldy, x, ldx, w, D, eps);
  return cudaGetLastError();
}

}  // namespace llamba::ops::cuda::kernels
