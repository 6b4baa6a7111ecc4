// conv1d_causal reference kernels, templated on the scalar type (double for the reference ops,
// std::complex<double> for the complex-step gradient checks). Dense row-major arrays over the extended
// sequence ext = [state_in; x] of T + K − 1 rows; backward accumulates (+=).
#pragma once

#include <cmath>
#include <complex>
#include <cstdint>
#include <vector>

namespace llamba::ops::ref::impl {

// Row r of [state; x] (state may be null = zeros).
template <class S>
const S* conv_ext_row(const S* state, const S* x, int64_t r, int64_t C, int64_t K) {
  return r < K - 1 ? (state ? state + r * C : nullptr) : x + (r - (K - 1)) * C;
}

// y (T, C) = act(bias + Σ_k w[:, k] ⊙ ext[t + k]); state (K−1, C) in: the rows before x, out: the last K−1
// rows of ext. x (T, C), w (C, K), bias (C) may be null, state may be null (zeros in, nothing out).
template <class S>
void conv1d_causal_forward(S* y, S* state, const S* x, const S* w, const S* bias, int64_t T, int64_t C, int64_t K,
                           bool silu) {
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < C; ++c) {
      S s = bias ? bias[c] : S(0);
      for (int64_t k = 0; k < K; ++k)
        if (const S* e = conv_ext_row<S>(state, x, t + k, C, K)) s += w[c * K + k] * e[c];
      y[t * C + c] = silu ? s / (1.0 + std::exp(-s)) : s;
    }
  if (!state) return;
  std::vector<S> last((K - 1) * C, S(0));
  for (int64_t r = 0; r < K - 1; ++r)
    if (const S* e = conv_ext_row<S>(state, x, T + r, C, K))
      for (int64_t c = 0; c < C; ++c) last[r * C + c] = e[c];
  for (int64_t i = 0; i < (K - 1) * C; ++i) state[i] = last[i];
}

// With s the pre-activation and ds = dy · act'(s) (silu'(s) = σ(s)·(1 + s·(1 − σ(s)))):
//   dext[t + k] += w[:, k] ⊙ ds[t],  dw[:, k] += Σ_t ds[t] ⊙ ext[t + k],  dbias += Σ_t ds[t],
//   dext[T + r] += dstate_out[r]   (the forward's outgoing state is ext's last K − 1 rows),
// then dx[t] += dext[t + K − 1] and dstate_in[r] += dext[r]. Gradient outputs and dstate_out may be null.
template <class S>
void conv1d_causal_backward(S* dx, S* dw, S* dbias, S* dstate_in, const S* dy, const S* dstate_out, const S* x,
                            const S* w, const S* bias, const S* state_in, int64_t T, int64_t C, int64_t K, bool silu) {
  std::vector<S> dext((T + K - 1) * C, S(0));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < C; ++c) {
      S s = bias ? bias[c] : S(0);
      for (int64_t k = 0; k < K; ++k)
        if (const S* e = conv_ext_row(state_in, x, t + k, C, K)) s += w[c * K + k] * e[c];
      S ds = dy[t * C + c];
      if (silu) {
        const S sg = 1.0 / (1.0 + std::exp(-s));
        ds *= sg * (1.0 + s * (1.0 - sg));
      }
      if (dbias) dbias[c] += ds;
      for (int64_t k = 0; k < K; ++k) {
        dext[(t + k) * C + c] += w[c * K + k] * ds;
        if (dw)
          if (const S* e = conv_ext_row(state_in, x, t + k, C, K)) dw[c * K + k] += ds * e[c];
      }
    }
  if (dstate_out)
    for (int64_t i = 0; i < (K - 1) * C; ++i) dext[T * C + i] += dstate_out[i];
  for (int64_t i = 0; i < (K - 1) * C; ++i)
    if (dstate_in) dstate_in[i] += dext[i];
  for (int64_t i = 0; i < T * C; ++i)
    if (dx) dx[i] += dext[(K - 1) * C + i];
}

}  // namespace llamba::ops::ref::impl
