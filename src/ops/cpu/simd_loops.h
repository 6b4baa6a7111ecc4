// Small inline loops written so that GCC auto-vectorizes them under strict IEEE (-ffp-contract=off, no
// -ffast-math): axpy, lane-blocked dot products, a register-tiled GEMM, and exp for non-positive arguments.
// Templates over float/double; no intrinsics, no threads (float GEMM excepted: see gemm_acc). Used by the cpu ops that need them.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ops/cpu/gemm.h"

namespace llamba::ops::cpu {

// y[i] += a * x[i]
template <class T>
inline void loop_axpy(int64_t n, T a, const T* __restrict x, T* __restrict y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// Σ x[i]·y[i] with kLanes independent partial sums (a fixed, deterministic order that vectorizes; a plain
// sequential reduction does not vectorize without -fassociative-math).
template <class T>
inline T loop_dot(int64_t n, const T* __restrict x, const T* __restrict y) {
  constexpr int kLanes = 16;
  T acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += x[i + j] * y[i + j];
  T tail = 0;
  for (; i < n; ++i) tail += x[i] * y[i];
  for (int w = kLanes / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
  return acc[0] + tail;
}

// exp(min(x, 0)), exactly 0 below the smallest normal result (and for −inf); NaN stays NaN.
// float: Cephes-style range reduction + degree-6 polynomial, |rel err| <= 2 ulp, branch-free (~1 ns per call
// on the 2-core dev machine; loops over it stay scalar under the default -ftrapping-math). `F` may also be a GCC
// vector-extension type (`I` the matching int vector) for a future SIMD path. double: std::exp (the fp64
// instantiation is a test path, not a fast path).
template <class F, class I>
inline F exp_nonpos_impl(F x, F zero) {
  constexpr float kLog2e = 1.44269504088896341f, kC1 = 0.693359375f, kC2 = -2.12194440e-4f;
  constexpr float kMin = -87.3365447505f;  // ln(FLT_MIN)
  constexpr float kRound = 12582912.0f;    // 1.5·2^23: adding it rounds to an integer
  const F vmin = zero + kMin;
  const F xl = x > vmin ? x : vmin;  // NaN maps to kMin here (it is returned as NaN below)
  const F xc = xl < zero ? xl : zero;
  const F fn = (xc * kLog2e + kRound) - kRound;
  const F r = (xc - fn * kC1) - fn * kC2;
  F p = zero + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  I n;
  if constexpr (std::is_same_v<F, float>) {
    n = static_cast<int32_t>(fn);
  } else {
    n = __builtin_convertvector(fn, I);
  }
  F scale;
  const I bits = (n + 127) << 23;
  std::memcpy(&scale, &bits, sizeof(F));
  const F e = p * scale;
  const F z = x < vmin ? zero : e;
  return x == x ? z : x;
}

inline float exp_nonpos(float x) { return exp_nonpos_impl<float, int32_t>(x, 0.0f); }
inline double exp_nonpos(double x) { return std::exp(std::min(x, 0.0)); }

template <class T>
inline void exp_nonpos_inplace(int64_t n, T* __restrict x) {
  for (int64_t i = 0; i < n; ++i) x[i] = exp_nonpos(x[i]);
}

// C (M × Nc, ldc) += A (M × K, lda) · B (K × Nc, ldb); row-major. float goes to the runtime-dispatched SIMD
// kernel (ops/cpu/gemm.h). double (the test path) uses register tiles of 4 rows × 64 bytes held in GCC
// vector-extension values, so the compiler cannot pick the wrong loop to vectorize when the sizes are only known
// at run time.
template <class T>
inline void gemm_acc(int64_t M, int64_t Nc, int64_t K, const T* __restrict A, int64_t lda, const T* __restrict B,
                     int64_t ldb, T* __restrict C, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>) {
    gemm_acc_f32(M, Nc, K, A, lda, B, ldb, C, ldc);
    return;
  }
  typedef T V __attribute__((vector_size(64)));
  constexpr int kR = 4, kW = 64 / (int)sizeof(T);
  int64_t i = 0;
  for (; i + kR <= M; i += kR) {
    int64_t j = 0;
    for (; j + kW <= Nc; j += kW) {
      V acc[kR];
      for (int r = 0; r < kR; ++r) std::memcpy(&acc[r], C + (i + r) * ldc + j, sizeof(V));
      const T* a0 = A + i * lda;
      for (int64_t k = 0; k < K; ++k) {
        V b;
        std::memcpy(&b, B + k * ldb + j, sizeof(V));
        for (int r = 0; r < kR; ++r) acc[r] += a0[r * lda + k] * b;
      }
      for (int r = 0; r < kR; ++r) std::memcpy(C + (i + r) * ldc + j, &acc[r], sizeof(V));
    }
    if (j < Nc)
      for (int r = 0; r < kR; ++r)
        for (int64_t k = 0; k < K; ++k)
          loop_axpy(Nc - j, A[(i + r) * lda + k], B + k * ldb + j, C + (i + r) * ldc + j);
  }
  for (; i < M; ++i)
    for (int64_t k = 0; k < K; ++k) loop_axpy(Nc, A[i * lda + k], B + k * ldb, C + i * ldc);
}

// x − 2π·round(x / 2π), in [−π, π]. 2π is split into a double and its rounding error (Cody–Waite), so wrapping
// a running phase sum thousands of times does not accumulate the 2.4e-16 representation error of 2π.
inline double wrap_2pi(double x) {
  constexpr double kTwoPiHi = 6.283185307179586232, kTwoPiLo = 2.4492935982947064e-16;
  const double k = std::nearbyint(x * (1.0 / kTwoPiHi));
  return (x - k * kTwoPiHi) - k * kTwoPiLo;
}

}  // namespace llamba::ops::cpu
