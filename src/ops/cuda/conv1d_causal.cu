// conv1d_causal forward on the GPU. Kernel 1, one thread per (t, c): acc = bias, then acc += w[c, k] · e[t + k]
// for k = 0 .. K-1 over the extended rows e = [state; x] (the CPU op's order and roundings), SiLU as the CPU op.
// Kernel 2, after it on the stream, one thread per (b, channel): state = the last K-1 rows of e, written in increasing
// row order, which reads each old state row before it is overwritten.
#include "ops/cuda/common.cuh"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda::kernels {

namespace {

__device__ __forceinline__ float ext_row(const float* x, int64_t ldx, const float* state, int64_t C, int64_t K,
                                         int64_t r, int64_t c) {
  return r < K - 1 ? state[r * C + c] : x[(r - (K - 1)) * ldx + c];
}

__global__ void conv_kernel(float* y, int64_t ldy, const float* x, int64_t ldx, const float* w, const float* bias,
                            const float* states, int64_t B, int64_t T, int64_t C, int64_t K, bool silu) {
  const int64_t n = B * T * C;
  for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < n; idx += (int64_t)gridDim.x * blockDim.x) {
    const int64_t row = idx / C, c = idx - row * C, b = row / T, t = row - b * T;
    const float* xb = x + b * T * ldx;
    const float* state = states + b * (K - 1) * C;
    float acc = bias ? bias[c] : 0.0f;
    for (int64_t k = 0; k < K; ++k) acc += w[c * K + k] * ext_row(xb, ldx, state, C, K, t + k, c);
    y[row * ldy + c] = silu ? acc / (1.0f + expf(-acc)) : acc;
  }
}

__global__ void conv_state_kernel(const float* x, int64_t ldx, float* states, int64_t B, int64_t T, int64_t C,
                                  int64_t K) {
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < B * C; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t b = i / C, c = i - b * C;
    const float* xb = x + b * T * ldx;
    float* state = states + b * (K - 1) * C;
    for (int64_t r = 0; r < K - 1; ++r) state[r * C + c] = ext_row(xb, ldx, state, C, K, T + r, c);
  }
}

}  // namespace

cudaError_t conv1d_causal_forward(cudaStream_t s, float* y, int64_t ldy, const float* x, int64_t ldx, const float* w,
                                  const float* bias, float* state, int64_t B, int64_t T, int64_t C, int64_t K,
                                  bool silu) {
  if (B * C == 0) return cudaSuccess;
  constexpr int kThreads = 256;
  if (T > 0)
    conv_kernel<<<blocks_for(B * T * C, kThreads), kThreads, 0, s>>>(y, ldy, x, ldx, w, bias, state, B, T, C, K, silu);
  if (K > 1) conv_state_kernel<<<blocks_for(B * C, kThreads), kThreads, 0, s>>>(x, ldx, state, B, T, C, K);
  return cudaGetLastError();
}

}  // namespace llamba::ops::cuda::kernels
