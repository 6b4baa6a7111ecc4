// cross_entropy reference kernels, templated on the scalar type (double for the reference ops,
// std::complex<double> for the complex-step gradient checks: the max shift uses real parts only, which is
// exact because any constant shift cancels). Dense row-major arrays; backward accumulates (+=).
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>

namespace llamba::ops::ref::impl {

// log Σ_v exp(x_v), shifted by the largest real part.
template <class S>
S logsumexp(const S* x, int64_t V, double inv_tau = 1.0) {
  double mx = -INFINITY;
  for (int64_t v = 0; v < V; ++v) mx = std::max(mx, std::real(x[v]) * inv_tau);
  S sum = 0;
  for (int64_t v = 0; v < V; ++v) sum += std::exp(x[v] * inv_tau - mx);
  return mx + std::log(sum);
}

// Mean over rows with targets[m] >= 0 of logsumexp(logits[m]) − logits[m, targets[m]]; 0 when no row counts.
template <class S>
S cross_entropy_forward(const S* logits, const int32_t* targets, int64_t M, int64_t V) {
  S total = 0;
  int64_t n = 0;
  for (int64_t m = 0; m < M; ++m) {
    if (targets[m] < 0) continue;
    total += logsumexp(logits + m * V, V) - logits[m * V + targets[m]];
    ++n;
  }
  return n ? total / (double)n : S(0);
}

// dlogits[m] += dloss · (softmax(logits[m]) − onehot(targets[m])) / n_valid for the rows that count.
template <class S>
void cross_entropy_backward(S* dlogits, const S* logits, const int32_t* targets, int64_t M, int64_t V, double dloss) {
  int64_t n = 0;
  for (int64_t m = 0; m < M; ++m) n += targets[m] >= 0;
  for (int64_t m = 0; m < M; ++m) {
    if (targets[m] < 0) continue;
    const S* x = logits + m * V;
    const S lse = logsumexp(x, V);
    for (int64_t v = 0; v < V; ++v)
      dlogits[m * V + v] += dloss / (double)n * (std::exp(x[v] - lse) - (v == targets[m] ? 1.0 : 0.0));
  }
}

}  // namespace llamba::ops::ref::impl
