// mse reference kernels, templated on the scalar type (double for the reference ops, std::complex<double> for
// the complex-step gradient checks: the zero-norm guard compares real parts). Dense row-major arrays; backward
// accumulates (+=).
#pragma once

#include <cmath>
#include <complex>
#include <cstdint>

namespace llamba::ops::ref::impl {

// row_norm = false: Σ_{m,d} (a − b)² / (M·D);  row_norm = true: Σ_m ‖a_m − b_m‖₂ / M. 0 for M·D = 0.
template <class S>
S mse_forward(const S* a, const S* b, int64_t M, int64_t D, bool row_norm) {
  S total = 0;
  for (int64_t m = 0; m < M; ++m) {
    S ss = 0;
    for (int64_t i = 0; i < D; ++i) ss += (a[m * D + i] - b[m * D + i]) * (a[m * D + i] - b[m * D + i]);
    total += row_norm ? std::sqrt(ss) : ss;
  }
  if (M * D == 0) return S(0);
  return total / (row_norm ? (double)M : (double)(M * D));
}

// da += g, db −= g with g = dloss · 2 (a − b) / (M·D) (mean square) or dloss · (a_m − b_m) / (‖a_m − b_m‖ · M)
// (row norm; 0 for a row whose norm is 0, where the norm has no derivative). da, db may be null.
template <class S>
void mse_backward(S* da, S* db, const S* a, const S* b, int64_t M, int64_t D, bool row_norm, double dloss) {
  for (int64_t m = 0; m < M; ++m) {
    S c = 2.0 * dloss / (double)(M * D);
    if (row_norm) {
      S ss = 0;
      for (int64_t i = 0; i < D; ++i) ss += (a[m * D + i] - b[m * D + i]) * (a[m * D + i] - b[m * D + i]);
      c = std::real(ss) > 0 ? dloss / (std::sqrt(ss) * (double)M) : S(0);
    }
    for (int64_t i = 0; i < D; ++i) {
      const S g = c * (a[m * D + i] - b[m * D + i]);
      if (da) da[m * D + i] += g;
      if (db) db[m * D + i] -= g;
    }
  }
}

}  // namespace llamba::ops::ref::impl
