// rmsnorm reference kernels, templated on the scalar type: double for the reference ops, std::complex<double>
// for the complex-step gradient checks in tests/ops. Dense row-major arrays; backward accumulates (+=).
#pragma once

#include <cmath>
#include <complex>
#include <cstdint>

namespace llamba::ops::ref::impl {

// y (M, D) = x · rsqrt(mean(x²) + eps) · w (D).
template <class S>
void rmsnorm_forward(S* y, const S* x, const S* w, int64_t M, int64_t D, double eps) {
  for (int64_t m = 0; m < M; ++m) {
    const S* xr = x + m * D;
    S ss = 0;
    for (int64_t i = 0; i < D; ++i) ss += xr[i] * xr[i];
    const S r = 1.0 / std::sqrt(ss / (double)D + eps);
    for (int64_t i = 0; i < D; ++i) y[m * D + i] = w[i] * xr[i] * r;
  }
}

// With r = rsqrt(mean(x²) + eps) and c = Σ_j w_j dy_j x_j:
//   dx_i += r · w_i · dy_i − (r³ · c / D) · x_i,     dw_i += Σ_m dy_mi · x_mi · r_m.
// dx (M, D) and dw (D) may be null (not needed).
template <class S>
void rmsnorm_backward(S* dx, S* dw, const S* dy, const S* x, const S* w, int64_t M, int64_t D, double eps) {
  for (int64_t m = 0; m < M; ++m) {
    const S* xr = x + m * D;
    const S* g = dy + m * D;
    S ss = 0, c = 0;
    for (int64_t i = 0; i < D; ++i) {
      ss += xr[i] * xr[i];
      c += w[i] * g[i] * xr[i];
    }
    const S r = 1.0 / std::sqrt(ss / (double)D + eps);
    const S k = r * r * r * c / (double)D;
    for (int64_t i = 0; i < D; ++i) {
      if (dx) dx[m * D + i] += r * w[i] * g[i] - k * xr[i];
      if (dw) dw[i] += g[i] * xr[i] * r;
    }
  }
}

}  // namespace llamba::ops::ref::impl
