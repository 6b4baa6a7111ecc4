// swiglu forward on the GPU: elementwise over (M, F) rows, out = a / (1 + exp(-a)) · up with a = gate + bias,
// the CPU op's operations in its order (expf here is within 2 ulp, the host's within 1).
#include "ops/cuda/common.cuh"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda::kernels {

namespace {

__global__ void swiglu_forward_kernel(float* out, int64_t ldo, const float* gate, int64_t ldg, const float* up,
                                      int64_t ldu, const float* gate_bias, int64_t M, int64_t F) {
  const int64_t n = M * F;
  for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < n; idx += (int64_t)gridDim.x * blockDim.x) {
    const int64_t m = idx / F, i = idx - m * F;
    const float g = gate[m * ldg + i];
    const float a = gate_bias ? g + gate_bias[i] : g;
    out[m * ldo + i] = a / (1.0f + expf(-a)) * up[m * ldu + i];
  }
}

}  // namespace

cudaError_t swiglu_forward(cudaStream_t s, float* out, int64_t ldo, const float* gate, int64_t ldg, const float* up,
                           int64_t ldu, const float* gate_bias, int64_t M, int64_t F) {
  if (M * F == 0) return cudaSuccess;
  constexpr int kThreads = 256;
  swiglu_forward_kernel<<<blocks_for(M * F, kThreads), kThreads, 0, s>>>(out, ldo, gate, ldg, up, ldu, gate_bias, M,
                                                                           F);
  return cudaGetLastError();
}

}  // namespace llamba::ops::cuda::kernels
