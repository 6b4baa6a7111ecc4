// The mixer_matrix loops, templated on the arithmetic type, shared by the ref (double) and cpu (float) paths and
// instantiated with std::complex<double> by the complex-step gradient checks.
#pragma once

#include <cmath>

#include "core/tensor.h"

namespace llamba::ops::detail {

inline void check_mixer_matrix(const core::TensorView& m, const core::TensorView& q, const core::TensorView& k,
                               const core::TensorView& ld, const core::TensorView& d) {
  LLAMBA_ENSURE(q.rank() == 3 && k.shape == q.shape && ld.rank() == 2 && m.rank() == 3 && q.is_contiguous() &&
                    k.is_contiguous() && ld.is_contiguous() && m.is_contiguous(),
                "[mixer_matrix] expected m (H, T, T), q/k (T, G, N), log_decay (T, H); got {} {} {} {}", m.shape.str(),
                q.shape.str(), k.shape.str(), ld.shape.str());
  const int64_t T = q.size(0), G = q.size(1), H = ld.size(1);
  LLAMBA_ENSURE(ld.size(0) == T && H % G == 0 && m.size(0) == H && m.size(1) == T && m.size(2) == T,
                "[mixer_matrix] shapes m {} q {} log_decay {}", m.shape.str(), q.shape.str(), ld.shape.str());
  LLAMBA_ENSURE(!d.data || d.numel() == H, "[mixer_matrix] d {} for {} heads", d.shape.str(), H);
}

// Backward: dm (H, T, T) and the forward's q, k, log_decay; gradients dq, dk (T, G, N), dlog_decay (T, H),
// dd (H), each optional.
inline void check_mixer_matrix_backward(const core::TensorView& dq, const core::TensorView& dk,
                                        const core::TensorView& dld, const core::TensorView& dd,
                                        const core::TensorView& dm, const core::TensorView& q,
                                        const core::TensorView& k, const core::TensorView& ld) {
  check_mixer_matrix(dm, q, k, ld, {});
  for (const core::TensorView* g : {&dq, &dk})
    LLAMBA_ENSURE(!g->data || (g->shape == q.shape && g->is_contiguous()), "[mixer_matrix_backward] dq/dk {} for q {}",
                  g->shape.str(), q.shape.str());
  LLAMBA_ENSURE(!dld.data || (dld.shape == ld.shape && dld.is_contiguous()),
                "[mixer_matrix_backward] dlog_decay {} for log_decay {}", dld.shape.str(), ld.shape.str());
  LLAMBA_ENSURE(!dd.data || (dd.numel() == ld.size(1) && dd.is_contiguous()),
                "[mixer_matrix_backward] dd {} for {} heads", dd.shape.str(), ld.size(1));
}

// Rows [t0, t1) of head h. In/Out are float or double; Acc the arithmetic type.
template <class Acc, class In, class Out>
void mixer_matrix_rows(Out* m, const In* q, const In* k, const In* ld, const In* d, int64_t T, int64_t G, int64_t N,
                       int64_t H, int64_t h, int64_t t0, int64_t t1, Acc scale) {
  const int64_t g = h / (H / G);
  for (int64_t t = t0; t < t1; ++t) {
    Out* row = m + (h * T + t) * T;
    const In* qt = q + (t * G + g) * N;
    Acc acc = 0;  // Σ_{j=s+1..t} log_decay_j, grown as s walks down from t
    for (int64_t s = t; s >= 0; --s) {
      if (s < t) acc += (Acc)ld[(s + 1) * H + h];
      const In* ks = k + (s * G + g) * N;
      Acc dot = 0;
      for (int64_t n = 0; n < N; ++n) dot += (Acc)qt[n] * (Acc)ks[n];
      row[s] = (Out)(scale * dot * std::exp(acc));
    }
    for (int64_t s = t + 1; s < T; ++s) row[s] = 0;
    if (d) row[t] = (Out)((Acc)row[t] + (Acc)d[h]);
  }
}

// Gradients of head h's matrix M[h] given dm (H, T, T) (the upper triangle is ignored: M is 0 there), into
// per-head arrays, accumulated (+=): dq_h (T, N), dk_h (T, N) (the caller sums the heads of a group),
// dlog_decay_h (T), dd_h (1). With w[t, s] = scale · dm[t, s] · exp(Σ_{j=s+1..t} log_decay_j) for s <= t:
//   dq_t += Σ_{s<=t} w[t, s] · k_s,   dk_s += Σ_{t>=s} w[t, s] · q_t,   dd += Σ_t dm[t, t],
//   dlog_decay_j += Σ_{t>=j} Σ_{s<j} R[t, s]  with R[t, s] = w[t, s] · (q_t · k_s)  (M[t, s] contains
//   log_decay_j exactly when s < j <= t), a rectangle sum done with one row prefix per t.
// A -inf log decay makes every w that spans it exactly 0 (never inf · 0), so its gradient is 0, not NaN.
// Sum is the accumulator of the O(T²)-term rectangle sums; `row` is scratch of T Acc values.
template <class Acc, class Sum, class In>
void mixer_matrix_backward_head(Acc* dq_h, Acc* dk_h, Sum* dld_h, Sum* dd_h, const In* dm, const In* q, const In* k,
                                const In* ld, int64_t T, int64_t G, int64_t N, int64_t H, int64_t h, Acc scale,
                                Acc* row) {
  const int64_t g = h / (H / G);
  for (int64_t t = 0; t < T; ++t) {
    const In* dmr = dm + (h * T + t) * T;
    const In* qt = q + (t * G + g) * N;
    Acc acc = 0;  // Σ_{j=s+1..t} log_decay_j, as in the forward
    for (int64_t s = t; s >= 0; --s) {
      if (s < t) acc += (Acc)ld[(s + 1) * H + h];
      const In* ks = k + (s * G + g) * N;
      const Acc w = scale * (Acc)dmr[s] * std::exp(acc);
      Acc dot = 0;
      for (int64_t n = 0; n < N; ++n) {
        dot += (Acc)qt[n] * (Acc)ks[n];
        dq_h[t * N + n] += w * (Acc)ks[n];
        dk_h[s * N + n] += w * (Acc)qt[n];
      }
      row[s] = w * dot;
    }
    *dd_h += (Sum)dmr[t];
    Sum prefix = 0;  // Σ_{s<j} R[t, s]
    for (int64_t j = 1; j <= t; ++j) {
      prefix += (Sum)row[j - 1];
      dld_h[j] += prefix;
    }
  }
}

}  // namespace llamba::ops::detail
