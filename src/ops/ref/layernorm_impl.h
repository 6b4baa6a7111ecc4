// layernorm reference kernels, templated on the scalar type: double for the reference ops, std::complex<double>
// for the complex-step gradient checks in tests/ops (every operation is analytic: sums, products, sqrt, 1/x).
// Dense row-major arrays; backward accumulates (+=).
#pragma once

#include <cmath>
#include <complex>
#include <cstdint>

namespace llamba::ops::ref::impl {

// Row mean and r = 1 / sqrt(var + eps) (biased variance, two passes).
template <class S>
void layernorm_stats(const S* xr, int64_t D, double eps, S& mean, S& r) {
  mean = 0;
  for (int64_t i = 0; i < D; ++i) mean += xr[i];
  mean /= (double)D;
  S var = 0;
  for (int64_t i = 0; i < D; ++i) var += (xr[i] - mean) * (xr[i] - mean);
  r = 1.0 / std::sqrt(var / (double)D + eps);
}

// y (M, D) = (x − mean) · r · w + b; b (D) may be null.
template <class S>
void layernorm_forward(S* y, const S* x, const S* w, const S* b, int64_t M, int64_t D, double eps) {
  for (int64_t m = 0; m < M; ++m) {
    const S* xr = x + m * D;
    S mean, r;
    layernorm_stats(xr, D, eps, mean, r);
    for (int64_t i = 0; i < D; ++i) y[m * D + i] = (xr[i] - mean) * r * w[i] + (b ? b[i] : S(0));
  }
}

// x̂ = (x − mean)·r, g = dy ⊙ w. y = x̂·w + b, and ∂x̂_j/∂x_i = r·(δ_ij − 1/D − x̂_i x̂_j / D), so
//   dx_i += r · (g_i − mean(g) − x̂_i · mean(g ⊙ x̂)),   dw += Σ_m dy ⊙ x̂,   db += Σ_m dy.
// dx (M, D), dw (D), db (D) may be null (not needed).
template <class S>
void layernorm_backward(S* dx, S* dw, S* db, const S* dy, const S* x, const S* w, int64_t M, int64_t D,
                        double eps) {
  for (int64_t m = 0; m < M; ++m) {
    const S* xr = x + m * D;
    const S* d = dy + m * D;
    S mean, r;
    layernorm_stats(xr, D, eps, mean, r);
    S g_mean = 0, gx_mean = 0;
    for (int64_t i = 0; i < D; ++i) {
      const S xh = (xr[i] - mean) * r;
      g_mean += d[i] * w[i];
      gx_mean += d[i] * w[i] * xh;
    }
    g_mean /= (double)D;
    gx_mean /= (double)D;
    for (int64_t i = 0; i < D; ++i) {
      const S xh = (xr[i] - mean) * r;
      if (dx) dx[m * D + i] += r * (d[i] * w[i] - g_mean - xh * gx_mean);
      if (dw) dw[i] += d[i] * xh;
      if (db) db[i] += d[i];
    }
  }
}

}  // namespace llamba::ops::ref::impl
