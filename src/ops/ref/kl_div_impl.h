// kl_div reference kernels, templated on the scalar type (double for the reference ops, std::complex<double>
// for the complex-step gradient checks; the softmax shift uses real parts only, which is exact since a
// constant shift cancels). Dense row-major arrays; backward accumulates (+=).
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <vector>

namespace llamba::ops::ref::impl {

// out = log_softmax(x · inv_tau) for one row of V values.
template <class S>
void log_softmax_row(S* out, const S* x, int64_t V, double inv_tau) {
  double mx = -INFINITY;
  for (int64_t v = 0; v < V; ++v) mx = std::max(mx, std::real(x[v]) * inv_tau);
  S sum = 0;
  for (int64_t v = 0; v < V; ++v) sum += std::exp(x[v] * inv_tau - mx);
  const S lse = mx + std::log(sum);
  for (int64_t v = 0; v < V; ++v) out[v] = x[v] * inv_tau - lse;
}

// Mean over the M rows of, with q = softmax(s/τ):
//   soft_ce = false: τ² · Σ_v p_v (log p_v − log q_v),  p = softmax(t/τ)   (tempered KL, Hinton scaling)
//   soft_ce = true:  −Σ_v p_v log q_v,                   p = softmax(t)     (MOHAWK stage 3 soft cross-entropy)
// p_v · log p_v is formed as exp(lp) · lp, so p_v = 0 contributes 0 (never 0 · −inf).
template <class S>
S kl_div_forward(const S* s, const S* t, int64_t M, int64_t V, double tau, bool soft_ce) {
  std::vector<S> lq(V), lp(V);
  S total = 0;
  for (int64_t m = 0; m < M; ++m) {
    log_softmax_row(lq.data(), s + m * V, V, 1.0 / tau);
    log_softmax_row(lp.data(), t + m * V, V, soft_ce ? 1.0 : 1.0 / tau);
    S row = 0;
    for (int64_t v = 0; v < V; ++v) row += std::exp(lp[v]) * (soft_ce ? -lq[v] : lp[v] - lq[v]);
    total += soft_ce ? row : tau * tau * row;
  }
  return M ? total / (double)M : S(0);
}

// ds[m] += dloss / M · c · (q − p), with c = τ for the tempered KL (τ² · 1/τ) and 1/τ for the soft CE.
template <class S>
void kl_div_backward(S* ds, const S* s, const S* t, int64_t M, int64_t V, double tau, bool soft_ce, double dloss) {
  std::vector<S> lq(V), lp(V);
  const double c = (soft_ce ? 1.0 / tau : tau) * dloss / (double)M;
  for (int64_t m = 0; m < M; ++m) {
    log_softmax_row(lq.data(), s + m * V, V, 1.0 / tau);
    log_softmax_row(lp.data(), t + m * V, V, soft_ce ? 1.0 : 1.0 / tau);
    for (int64_t v = 0; v < V; ++v) ds[m * V + v] += c * (std::exp(lq[v]) - std::exp(lp[v]));
  }
}

}  // namespace llamba::ops::ref::impl
