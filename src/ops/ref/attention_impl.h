// attention reference kernels, templated on the scalar type (double for the reference ops, std::complex<double>
// for the complex-step gradient checks; the softmax shift uses real parts, exact since a constant shift
// cancels). Dense arrays: q, out (T, Hq, hd); k, v (Sk, Hkv, hd); query t sees keys 0 .. n_past + t.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <vector>

namespace llamba::ops::ref::impl {

struct AttnDims {
  int64_t T, Hq, Hkv, hd, n_past;
};

// p (n_past + t + 1) = softmax over the visible keys of query (t, h).
template <class S>
void attention_probs(S* p, const S* q, const S* k, const AttnDims& d, int64_t t, int64_t h, double scale) {
  const int64_t hk = h / (d.Hq / d.Hkv), n = d.n_past + t + 1;
  const S* qt = q + (t * d.Hq + h) * d.hd;
  double mx = -INFINITY;
  for (int64_t s = 0; s < n; ++s) {
    S dot = 0;
    for (int64_t i = 0; i < d.hd; ++i) dot += qt[i] * k[(s * d.Hkv + hk) * d.hd + i];
    p[s] = dot * scale;
    mx = std::max(mx, std::real(p[s]));
  }
  S sum = 0;
  for (int64_t s = 0; s < n; ++s) sum += (p[s] = std::exp(p[s] - mx));
  for (int64_t s = 0; s < n; ++s) p[s] /= sum;
}

// out = softmax(q kᵀ · scale + causal mask) v; probs (Hq, T, Sp) optional (zeros past the visible keys).
template <class S>
void attention_forward(S* out, S* probs, int64_t Sp, const S* q, const S* k, const S* v, const AttnDims& d,
                       double scale) {
  std::vector<S> p(d.n_past + d.T);
  for (int64_t h = 0; h < d.Hq; ++h)
    for (int64_t t = 0; t < d.T; ++t) {
      const int64_t hk = h / (d.Hq / d.Hkv), n = d.n_past + t + 1;
      attention_probs(p.data(), q, k, d, t, h, scale);
      for (int64_t i = 0; i < d.hd; ++i) {
        S o = 0;
        for (int64_t s = 0; s < n; ++s) o += p[s] * v[(s * d.Hkv + hk) * d.hd + i];
        out[(t * d.Hq + h) * d.hd + i] = o;
      }
      if (probs)
        for (int64_t s = 0; s < Sp; ++s) probs[(h * d.T + t) * Sp + s] = s < n ? p[s] : S(0);
    }
}

// With P the probabilities of query (t, h), dP_s = dout_t · v_s and δ = Σ_s P_s dP_s (= dout_t · out_t):
//   dv_s += P_s · dout_t,   dS_s = P_s · (dP_s − δ),   dq_t += scale · Σ_s dS_s k_s,   dk_s += scale · dS_s q_t.
// dk, dv (Sk, Hkv, hd) sum over the query heads of each KV head. Any gradient may be null.
template <class S>
void attention_backward(S* dq, S* dk, S* dv, const S* dout, const S* q, const S* k, const S* v, const AttnDims& d,
                        double scale) {
  std::vector<S> p(d.n_past + d.T), dp(d.n_past + d.T);
  for (int64_t h = 0; h < d.Hq; ++h)
    for (int64_t t = 0; t < d.T; ++t) {
      const int64_t hk = h / (d.Hq / d.Hkv), n = d.n_past + t + 1;
      const S* g = dout + (t * d.Hq + h) * d.hd;
      const S* qt = q + (t * d.Hq + h) * d.hd;
      attention_probs(p.data(), q, k, d, t, h, scale);
      S delta = 0;
      for (int64_t s = 0; s < n; ++s) {
        S x = 0;
        for (int64_t i = 0; i < d.hd; ++i) x += g[i] * v[(s * d.Hkv + hk) * d.hd + i];
        dp[s] = x;
        delta += p[s] * x;
      }
      for (int64_t s = 0; s < n; ++s) {
        const S ds = p[s] * (dp[s] - delta) * scale;
        const int64_t kv = (s * d.Hkv + hk) * d.hd;
        for (int64_t i = 0; i < d.hd; ++i) {
          if (dq) dq[(t * d.Hq + h) * d.hd + i] += ds * k[kv + i];
          if (dk) dk[kv + i] += ds * qt[i];
          if (dv) dv[kv + i] += p[s] * g[i];
        }
      }
    }
}

}  // namespace llamba::ops::ref::impl
