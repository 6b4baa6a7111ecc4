// Launchers of the CUDA kernels (ops/cuda/*.cu), over raw device pointers and sizes; strides and leading
// dimensions in elements. Host entry points (ops/cuda/<op>.cpp) check shapes and devices, then call these.
// Each returns the launch's error (cudaGetLastError). Included by nvcc and the C++ compiler alike: no fmt here.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/dtype.h"

namespace llamba::ops::cuda::kernels {

// Weight and table types the kernels decode on the device (dequant.cuh).
constexpr bool decodes(core::DType t) {
  return t == core::DType::kF32 || t == core::DType::kF16 || t == core::DType::kBF16 || t == core::DType::kQ8_0 ||
         t == core::DType::kQ4_0 || t == core::DType::kQ4_1;
}

// y (M, D) = x · rsqrt(mean(x²) + eps) · w; y may alias x.
cudaError_t rmsnorm_forward(cudaStream_t s, float* y, int64_t ldy, const float* x, int64_t ldx, const float* w,
                            int64_t M, int64_t D, float eps);

// out (M, F) = silu(gate + gate_bias) · up; gate_bias may be null; out may alias gate or up.
cudaError_t swiglu_forward(cudaStream_t s, float* out, int64_t ldo, const float* gate, int64_t ldg, const float* up,
                           int64_t ldu, const float* gate_bias, int64_t M, int64_t F);

// x (T, H, hd) rotated in place: pairs (2i, 2i+1) or (i, i + half) for i < half; strides st (token), sh (head).
cudaError_t rope_forward(cudaStream_t s, float* x, int64_t st, int64_t sh, int64_t T, int64_t H,
                         const int64_t* positions, const float* inv_freq, int64_t half, bool interleaved);

// out[t] (D floats, row stride ldo) = row ids[t] of a contiguous table of type `dt` (decodes(dt)).
cudaError_t embedding_forward(cudaStream_t s, float* out, int64_t ldo, const void* table, core::DType dt,
                              const int32_t* ids, int64_t T, int64_t D);

// dst (rows, K) f32 = rows [0, rows) of the contiguous matrix `src` (type dt, K a multiple of its block).
cudaError_t dequantize_rows(cudaStream_t s, float* dst, const void* src, core::DType dt, int64_t rows, int64_t K);

// The fused product for a few rows: y (M, N) = x (M, K) · wᵀ (+ bias), w (N, K) of type dt decoded in registers,
// M <= kMaxFusedRows.
constexpr int64_t kMaxFusedRows = 8;
cudaError_t linear_fused_rows(cudaStream_t s, float* y, int64_t ldy, const float* x, int64_t ldx, const void* w,
                              core::DType dt, const float* bias, int64_t M, int64_t N, int64_t K);

// dst (M, K) bf16, contiguous = x (M, K) rounded to nearest even bf16.
cudaError_t f32_to_bf16(cudaStream_t s, void* dst, const float* x, int64_t ldx, int64_t M, int64_t K);

// y (M, N) += bias (N), or y = bias (zeros when bias is null) with `assign`.
cudaError_t add_bias(cudaStream_t s, float* y, int64_t ldy, const float* bias, int64_t M, int64_t N, bool assign);

// Per sequence b < B (rows [b·T, (b+1)·T) of x and y, state b of (B, K-1, C)): y (T, C) = act(bias +
// Σ_k w[:, k] ⊙ [state; x][t + k]); then state (K-1, C) = the last K-1 rows of [state; x].
cudaError_t conv1d_causal_forward(cudaStream_t s, float* y, int64_t ldy, const float* x, int64_t ldx, const float* w,
                                  const float* bias, float* state, int64_t B, int64_t T, int64_t C, int64_t K,
                                  bool silu);

// T steps of the gated recurrence with real gates (T = 1: a decode step), per (b, h) with group
// grp = h / (H / G): a = exp(min(log_decay, 0)) (scalar, or one per key channel n), state[p, n] = a·state[p, n] +
// v[p]·k[n], y[p] = scale · Σ_n q[n]·state[p, n], in place on `state`. Strides in elements (_t: per step, 0 for a
// single step); the innermost dimension of every view is contiguous.
struct RecurrenceStep {
  const float *q, *k, *v, *log_decay;
  float *y, *state;
  int64_t q_b, q_g, k_b, k_g, v_b, v_h, y_b, y_h, g_b, g_h, s_b, s_h, s_p;
  int64_t q_t, k_t, v_t, y_t, g_t;
  int64_t B, T, H, G, N, P;
  bool vector_gate;
  float scale;
};
cudaError_t gated_recurrence_step(cudaStream_t s, const RecurrenceStep& a);

// Elementwise over (M, F) row views: y = y + x (add_inplace), y = −softplus(x) (neg_softplus), y += d[i / P]·x
// (skip_add, d per head of P columns).
struct Elementwise {
  float* y;
  int64_t ldy;
  const float* x;
  int64_t ldx;
  const float* d;
  int64_t P, M, F;
};
cudaError_t add_inplace(cudaStream_t s, const Elementwise& e);
cudaError_t neg_softplus(cudaStream_t s, const Elementwise& e);
cudaError_t skip_add(cudaStream_t s, const Elementwise& e);

}  // namespace llamba::ops::cuda::kernels
