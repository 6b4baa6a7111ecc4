// The gated recurrence on the GPU (real gates), the decode step and the forward's recurrent loop over T steps:
// one block per (batch, head), one warp per value row p at a time. The gate a = exp(min(g, 0)) is evaluated in double and rounded to float, which matches the CPU
// op's fp32 expf (glibc, within 0.502 ulp) except near rounding ties; the state update a·s + v·k rounds as the
// CPU op's (--fmad=false), and y sums q·s in fp32 (lane chains of N/32, then a butterfly).
#include "ops/cuda/common.cuh"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda::kernels {

namespace {

// Steps t = 0 .. T-1 in order; the state stays in global memory (each thread owns the same elements at every
// step, so the updates need no synchronization; the gates are shared and re-read per step).
__global__ void recurrence_step_kernel(const RecurrenceStep a) {
  extern __shared__ float gate[];  // N values (vector gates) or 1
  const int64_t b = blockIdx.x / a.H, h = blockIdx.x % a.H, grp = h / (a.H / a.G);
  const int64_t ng = a.vector_gate ? a.N : 1;
  const int lane = threadIdx.x % kWarp, n_warps = blockDim.x / kWarp;
  for (int64_t t = 0; t < a.T; ++t) {
    const float* g = a.log_decay + b * a.g_b + t * a.g_t + h * a.g_h;
    if (t > 0) __syncthreads();  // every warp is done with the previous step's gates
    for (int64_t n = threadIdx.x; n < ng; n += blockDim.x) {
      const float gn = 0.0f < g[n] ? 0.0f : g[n];  // std::min(g, 0): a NaN stays NaN
      gate[n] = (float)exp((double)gn);
    }
    __syncthreads();
    const float* q = a.q + b * a.q_b + t * a.q_t + grp * a.q_g;
    const float* k = a.k + b * a.k_b + t * a.k_t + grp * a.k_g;
    const float* v = a.v + b * a.v_b + t * a.v_t + h * a.v_h;
    float* y = a.y + b * a.y_b + t * a.y_t + h * a.y_h;
    for (int64_t p = threadIdx.x / kWarp; p < a.P; p += n_warps) {
      float* s = a.state + b * a.s_b + h * a.s_h + p * a.s_p;
      const float vp = v[p];
      float acc = 0.0f;
      for (int64_t n = lane; n < a.N; n += kWarp) {
        const float sn = gate[a.vector_gate ? n : 0] * s[n] + vp * k[n];
        s[n] = sn;
        acc += sn * q[n];
      }
      acc = warp_sum(acc);
      if (lane == 0) y[p] = a.scale * acc;
    }
  }
}

}  // namespace

cudaError_t gated_recurrence_step(cudaStream_t s, const RecurrenceStep& a) {
  if (a.B * a.H == 0 || a.P == 0 || a.T == 0) return cudaSuccess;
  const int threads = a.P >= 4 ? 128 : 32;
  const size_t smem = (size_t)(a.vector_gate ? a.N : 1) * sizeof(float);
  recurrence_step_kernel<<<(unsigned)(a.B * a.H), threads, smem, s>>>(a);
  return cudaGetLastError();
}

}  // namespace llamba::ops::cuda::kernels
