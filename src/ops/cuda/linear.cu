// linear forward pieces on the GPU (the products of many rows go through cuBLAS in ops/cuda/linear.cpp):
// - linear_fused_rows: y = x · wᵀ (+ bias) for at most kMaxFusedRows input rows (decode). One warp per output
//   column n reads weight row n once, decoding it in registers, and keeps one fp32 sum per input row: each lane
//   sums its share of k in order (eight consecutive elements per step where K allows, else one), then the 32
//   lane sums meet in a butterfly.
// - dequantize_rows: weight rows decoded to f32 for cuBLAS; add_bias: y += bias (or y = bias);
// - f32_to_bf16: x rounded to bf16 for the tensor-core product of Gemm::kReduced.
#include "ops/cuda/common.cuh"
#include "ops/cuda/dequant.cuh"
#include "ops/cuda/kernels.h"

namespace llamba::ops::cuda::kernels {

namespace {

constexpr int kFusedWarps = 8;  // output columns per block

template <class Dec>
__global__ void fused_rows_kernel(float* y, int64_t ldy, const float* x, int64_t ldx, const uint8_t* w,
                                  int64_t row_bytes, const float* bias, int M, int64_t N, int64_t K) {
  const int lane = threadIdx.x % kWarp;
  const int64_t n = (int64_t)blockIdx.x * kFusedWarps + threadIdx.x / kWarp;
  if (n >= N) return;
  const uint8_t* wr = w + n * row_bytes;
  float acc[kMaxFusedRows];
#pragma unroll
  for (int m = 0; m < kMaxFusedRows; ++m) acc[m] = 0.0f;
  for (int64_t k = lane; k < K; k += kWarp) {
    const float wk = Dec::at(wr, k);
#pragma unroll
    for (int m = 0; m < kMaxFusedRows; ++m)
      if (m < M) acc[m] += x[m * ldx + k] * wk;
  }
#pragma unroll
  for (int m = 0; m < kMaxFusedRows; ++m) {
    if (m >= M) break;
    const float v = warp_sum(acc[m]);
    if (lane == 0) y[m * ldy + n] = bias ? v + bias[n] : v;
  }
}

// The same with eight consecutive elements per lane and step (decode8: 16-byte weight loads for f16/bf16), for
// K a multiple of 8; x rows are read as float4 when kX4 (16-byte aligned rows). Lane l sums k in
// [8l, 8l + 8), [8l + 256, ...), ... in order.
template <class Dec, bool kX4>
__global__ void fused_rows8_kernel(float* y, int64_t ldy, const float* x, int64_t ldx, const uint8_t* w,
                                   int64_t row_bytes, const float* bias, int M, int64_t N, int64_t K) {
  const int lane = threadIdx.x % kWarp;
  const int64_t n = (int64_t)blockIdx.x * kFusedWarps + threadIdx.x / kWarp;
  if (n >= N) return;
  const uint8_t* wr = w + n * row_bytes;
  float acc[kMaxFusedRows];
#pragma unroll
  for (int m = 0; m < kMaxFusedRows; ++m) acc[m] = 0.0f;
#pragma unroll 2
  for (int64_t k0 = 8 * lane; k0 < K; k0 += 8 * kWarp) {
    float wk[8];
    decode8<Dec::kType>(wr, k0, wk);
#pragma unroll
    for (int m = 0; m < kMaxFusedRows; ++m) {
      if (m >= M) break;
      const float* xm = x + m * ldx + k0;
      float xv[8];
      if constexpr (kX4) {
        const float4 a = reinterpret_cast<const float4*>(xm)[0], b = reinterpret_cast<const float4*>(xm)[1];
        xv[0] = a.x, xv[1] = a.y, xv[2] = a.z, xv[3] = a.w, xv[4] = b.x, xv[5] = b.y, xv[6] = b.z, xv[7] = b.w;
      } else {
#pragma unroll
        for (int i = 0; i < 8; ++i) xv[i] = xm[i];
      }
      float s = acc[m];
#pragma unroll
      for (int i = 0; i < 8; ++i) s += xv[i] * wk[i];
      acc[m] = s;
    }
  }
#pragma unroll
  for (int m = 0; m < kMaxFusedRows; ++m) {
    if (m >= M) break;
    const float v = warp_sum(acc[m]);
    if (lane == 0) y[m * ldy + n] = bias ? v + bias[n] : v;
  }
}

template <class Dec>
__global__ void dequantize_rows_kernel(float* dst, const uint8_t* src, int64_t row_bytes, int64_t rows, int64_t K) {
  const int64_t n = rows * K;
  for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < n; idx += (int64_t)gridDim.x * blockDim.x) {
    const int64_t r = idx / K, k = idx - r * K;
    dst[idx] = Dec::at(src + r * row_bytes, k);
  }
}

__global__ void f32_to_bf16_kernel(__nv_bfloat16* dst, const float* x, int64_t ldx, int64_t M, int64_t K) {
  const int64_t n = M * K;
  for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < n; idx += (int64_t)gridDim.x * blockDim.x) {
    const int64_t m = idx / K, k = idx - m * K;
    dst[idx] = __float2bfloat16_rn(x[m * ldx + k]);
  }
}

__global__ void add_bias_kernel(float* y, int64_t ldy, const float* bias, int64_t M, int64_t N, bool assign) {
  const int64_t n_all = M * N;
  for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < n_all;
       idx += (int64_t)gridDim.x * blockDim.x) {
    const int64_t m = idx / N, n = idx - m * N;
    float& v = y[m * ldy + n];
    const float b = bias ? bias[n] : 0.0f;
    v = assign ? b : v + b;
  }
}

}  // namespace

cudaError_t linear_fused_rows(cudaStream_t s, float* y, int64_t ldy, const float* x, int64_t ldx, const void* w,
                              core::DType dt, const float* bias, int64_t M, int64_t N, int64_t K) {
  if (M == 0 || N == 0) return cudaSuccess;
  if (M > kMaxFusedRows) return cudaErrorInvalidValue;
  const unsigned blocks = (unsigned)((N + kFusedWarps - 1) / kFusedWarps);
  const auto* wb = static_cast<const uint8_t*>(w);
  // Eight at a time needs whole groups of 8 and weight rows aligned for decode8's loads.
  const int64_t align = decode8_alignment(dt);
  const bool by8 = K % 8 == 0 && reinterpret_cast<uintptr_t>(w) % align == 0 && row_bytes(dt, K) % align == 0;
  const bool x4 = reinterpret_cast<uintptr_t>(x) % 16 == 0 && (ldx % 4 == 0 || M == 1);
  const bool known = with_decoder(dt, [&](auto dec) {
    using Dec = decltype(dec);
    constexpr int kThreads = kFusedWarps * kWarp;
    if (by8 && x4) {
      fused_rows8_kernel<Dec, true><<<blocks, kThreads, 0, s>>>(y, ldy, x, ldx, wb, row_bytes(dt, K), bias, (int)M, N, K);
    } else if (by8) {
      fused_rows8_kernel<Dec, false><<<blocks, kThreads, 0, s>>>(y, ldy, x, ldx, wb, row_bytes(dt, K), bias, (int)M, N, K);
    } else {
      fused_rows_kernel<Dec><<<blocks, kThreads, 0, s>>>(y, ldy, x, ldx, wb, row_bytes(dt, K), bias, (int)M, N, K);
    }
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t dequantize_rows(cudaStream_t s, float* dst, const void* src, core::DType dt, int64_t rows, int64_t K) {
  if (rows * K == 0) return cudaSuccess;
  constexpr int kThreads = 256;
  const bool known = with_decoder(dt, [&](auto dec) {
    dequantize_rows_kernel<decltype(dec)><<<blocks_for(rows * K, kThreads), kThreads, 0, s>>>(
        dst, static_cast<const uint8_t*>(src), row_bytes(dt, K), rows, K);
  });
  return known ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t f32_to_bf16(cudaStream_t s, void* dst, const float* x, int64_t ldx, int64_t M, int64_t K) {
  if (M * K == 0) return cudaSuccess;
  constexpr int kThreads = 256;
  f32_to_bf16_kernel<<<blocks_for(M * K, kThreads), kThreads, 0, s>>>(static_cast<__nv_bfloat16*>(dst), x, ldx, M, K);
  return cudaGetLastError();
}

cudaError_t add_bias(cudaStream_t s, float* y, int64_t ldy, const float* bias, int64_t M, int64_t N, bool assign) {
  if (M * N == 0) return cudaSuccess;
  constexpr int kThreads = 256;
  add_bias_kernel<<<blocks_for(M * N, kThreads), kThreads, 0, s>>>(y, ldy, bias, M, N, assign);
  return cudaGetLastError();
}

}  // namespace llamba::ops::cuda::kernels
