// linear reference kernels, templated on the scalar type (double for the reference ops, std::complex<double>
// for the complex-step gradient checks). Dense row-major arrays; backward accumulates (+=).
#pragma once

#include <complex>
#include <cstdint>

namespace llamba::ops::ref::impl {

// y (M, N) = x (M, K) · w (N, K)ᵀ + b (N); b may be null.
template <class S>
void linear_forward(S* y, const S* x, const S* w, const S* b, int64_t M, int64_t K, int64_t N) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      S s = b ? b[n] : S(0);
      for (int64_t k = 0; k < K; ++k) s += x[m * K + k] * w[n * K + k];
      y[m * N + n] = s;
    }
}

// dx (M, K) += dy · w,  dw (N, K) += dyᵀ · x,  db (N) += Σ_m dy. Any output may be null (not needed).
template <class S>
void linear_backward(S* dx, S* dw, S* db, const S* dy, const S* x, const S* w, int64_t M, int64_t K, int64_t N) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      const S g = dy[m * N + n];
      if (db) db[n] += g;
      for (int64_t k = 0; k < K; ++k) {
        if (dx) dx[m * K + k] += g * w[n * K + k];
        if (dw) dw[n * K + k] += g * x[m * K + k];
      }
    }
}

}  // namespace llamba::ops::ref::impl
