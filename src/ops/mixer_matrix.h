// mixer_matrix: the materialized matrix of a scalar-gated linear recurrence (SSD / Discrete Mamba-2), the
// object MOHAWK stage 1 aligns with attention matrices (llamba.md §4.3):
//   M[h][t, s] = scale · (q_t[g] · k_s[g]) · exp(Σ_{j=s+1..t} log_decay_j[h])  for s <= t,  0 for s > t,
//   M[h][t, t] += d[h],      g = h / (H / G).
// The decay exponent is accumulated pairwise in log space (never a difference of global cumsums, never a
// division of cumulative products), so it is exact for strong decays and -inf (a reset) alike.
#pragma once

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace llamba::ops {

// m (H, T, T), q (T, G, N), k (T, G, N), log_decay (T, H) (<= 0, may be -inf), d (H) optional. f32.
void mixer_matrix_forward(core::ThreadPool& pool, const core::TensorView& m, const core::TensorView& q,
                          const core::TensorView& k, const core::TensorView& log_decay, const core::TensorView& d,
                          float scale = 1.0f);

namespace ref {
// Same contract for f32 or f64 views, double arithmetic.
void mixer_matrix_forward(const core::TensorView& m, const core::TensorView& q, const core::TensorView& k,
                          const core::TensorView& log_decay, const core::TensorView& d, double scale = 1.0);
}

}  // namespace llamba::ops
