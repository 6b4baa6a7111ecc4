// swiglu reference kernels, templated on the scalar type (double for the reference ops, std::complex<double>
// for the complex-step gradient checks). Dense row-major arrays; backward accumulates (+=).
#pragma once

#include <cmath>
#include <complex>
#include <cstdint>

namespace llamba::ops::ref::impl {

template <class S>
S sigmoid(const S& a) {
  return 1.0 / (1.0 + std::exp(-a));
}

// out (M, F) = silu(gate + gate_bias) ⊙ up; gate_bias (F) may be null.
template <class S>
void swiglu_forward(S* out, const S* gate, const S* up, const S* gate_bias, int64_t M, int64_t F) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t i = 0; i < F; ++i) {
      const S a = gate_bias ? gate[m * F + i] + gate_bias[i] : gate[m * F + i];
      out[m * F + i] = a * sigmoid(a) * up[m * F + i];
    }
}

// With a = gate + gate_bias, s = sigmoid(a): silu'(a) = s · (1 + a · (1 − s)), so
//   dgate += dout · up · silu'(a),   dgate_bias += Σ_m (same),   dup += dout · silu(a).
// dgate (M, F), dup (M, F), dgate_bias (F) may be null (not needed).
template <class S>
void swiglu_backward(S* dgate, S* dup, S* dgate_bias, const S* dout, const S* gate, const S* up,
                     const S* gate_bias, int64_t M, int64_t F) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t i = 0; i < F; ++i) {
      const int64_t j = m * F + i;
      const S a = gate_bias ? gate[j] + gate_bias[i] : gate[j];
      const S s = sigmoid(a);
      const S da = dout[j] * up[j] * s * (1.0 + a * (1.0 - s));
      if (dgate) dgate[j] += da;
      if (dgate_bias) dgate_bias[i] += da;
      if (dup) dup[j] += dout[j] * a * s;
    }
}

}  // namespace llamba::ops::ref::impl
