// The mixer_matrix loop, templated on the arithmetic type, shared by the ref (double) and cpu (float) paths.
#pragma once

#include <cmath>

#include "core/tensor.h"

namespace llamba::ops::detail {

inline void check_mixer_matrix(const core::TensorView& m, const core::TensorView& q, const core::TensorView& k,
                               const core::TensorView& ld, const core::TensorView& d) {
  LLAMBA_CHECK(q.rank() == 3 && k.shape == q.shape && ld.rank() == 2 && m.rank() == 3 && q.is_contiguous() &&
                   k.is_contiguous() && ld.is_contiguous() && m.is_contiguous(),
               "[mixer_matrix] expected m (H, T, T), q/k (T, G, N), log_decay (T, H); got {} {} {} {}", m.shape.str(),
               q.shape.str(), k.shape.str(), ld.shape.str());
  const int64_t T = q.size(0), G = q.size(1), H = ld.size(1);
  LLAMBA_CHECK(ld.size(0) == T && H % G == 0 && m.size(0) == H && m.size(1) == T && m.size(2) == T,
               "[mixer_matrix] shapes m {} q {} log_decay {}", m.shape.str(), q.shape.str(), ld.shape.str());
  LLAMBA_CHECK(!d.data || d.numel() == H, "[mixer_matrix] d {} for {} heads", d.shape.str(), H);
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

}  // namespace llamba::ops::detail
