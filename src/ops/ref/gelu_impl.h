// gelu reference kernels, templated on the (real) scalar type. erf has no complex overload in the standard
// library, so the gradient tests check these by central differences rather than a complex step. Dense row-major
// arrays; backward accumulates (+=).
#pragma once

#include <cmath>
#include <cstdint>

namespace llamba::ops::ref::impl {

// Φ(g) and φ(g): the standard normal cdf and density.
template <class S>
S normal_cdf(S g) {
  return S(0.5) * (S(1) + std::erf(g * S(0.70710678118654752440)));
}
template <class S>
S normal_pdf(S g) {
  return S(0.39894228040143267794) * std::exp(S(-0.5) * g * g);
}

// out (M, F) = g · Φ(g), g = x + bias; bias (F) may be null.
template <class S>
void gelu_forward(S* out, const S* x, const S* bias, int64_t M, int64_t F) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t i = 0; i < F; ++i) {
      const S g = bias ? x[m * F + i] + bias[i] : x[m * F + i];
      out[m * F + i] = g * normal_cdf(g);
    }
}

// d/dg (g · Φ(g)) = Φ(g) + g · φ(g):  dx += dout · gelu'(g),  dbias += Σ_m (same).
// dx (M, F) and dbias (F) may be null (not needed).
template <class S>
void gelu_backward(S* dx, S* dbias, const S* dout, const S* x, const S* bias, int64_t M, int64_t F) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t i = 0; i < F; ++i) {
      const int64_t j = m * F + i;
      const S g = bias ? x[j] + bias[i] : x[j];
      const S d = dout[j] * (normal_cdf(g) + g * normal_pdf(g));
      if (dx) dx[j] += d;
      if (dbias) dbias[i] += d;
    }
}

}  // namespace llamba::ops::ref::impl
