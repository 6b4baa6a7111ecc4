// mixer_matrix: the materialized matrix of a scalar-gated linear recurrence (SSD / Discrete Mamba-2), the
// object MOHAWK stage 1 aligns with attention matrices (docs/models.md §"Materialized matrix"):
//   M[h][t, s] = scale · (q_t[g] · k_s[g]) · exp(Σ_{j=s+1..t} log_decay_j[h])  for s <= t,  0 for s > t,
//   M[h][t, t] += d[h],      g = h / (H / G).
// The decay exponent is accumulated pairwise in log space (never a difference of global cumsums, never a
// division of cumulative products), so it is exact for strong decays and -inf (a reset) alike.
// Backward convention (llm.c): every gradient output is ACCUMULATED into (+=), callers zero them; a gradient
// view with data == nullptr is not needed (its work is still shared with the others, so skipping saves little).
#pragma once

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

// m (H, T, T), q (T, G, N), k (T, G, N), log_decay (T, H) (<= 0, may be -inf), d (H) optional. f32.
inline void mixer_matrix_forward(Context& ctx, const core::TensorView& m, const core::TensorView& q,
                                 const core::TensorView& k, const core::TensorView& log_decay,
                                 const core::TensorView& d, float scale = 1.0f);

// Gradients given dm (H, T, T) = ∂L/∂M (entries above the diagonal are ignored): dq, dk (T, G, N) (summed over
// the heads of each group), dlog_decay (T, H) (row 0 gets nothing: M never reads log_decay_0; a -inf entry gets
// 0, never NaN), dd (H). Inputs q, k (T, G, N), log_decay (T, H) as in the forward; d is not needed. f32, all
// contiguous; heads across threads, dlog_decay's O(T²)-term sums accumulated in double.
inline void mixer_matrix_backward(Context& ctx, const core::TensorView& dq, const core::TensorView& dk,
                                  const core::TensorView& dlog_decay, const core::TensorView& dd,
                                  const core::TensorView& dm, const core::TensorView& q, const core::TensorView& k,
                                  const core::TensorView& log_decay, float scale = 1.0f);

namespace ref {
// Same contract for f32 or f64 views, double arithmetic.
void mixer_matrix_forward(const core::TensorView& m, const core::TensorView& q, const core::TensorView& k,
                          const core::TensorView& log_decay, const core::TensorView& d, double scale = 1.0);
void mixer_matrix_backward(const core::TensorView& dq, const core::TensorView& dk, const core::TensorView& dlog_decay,
                           const core::TensorView& dd, const core::TensorView& dm, const core::TensorView& q,
                           const core::TensorView& k, const core::TensorView& log_decay, double scale = 1.0);
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), and the dispatch of the ops above to them.
namespace cpu {
void mixer_matrix_forward(core::ThreadPool& pool, const core::TensorView& m, const core::TensorView& q,
                          const core::TensorView& k, const core::TensorView& log_decay, const core::TensorView& d,
                          float scale);
void mixer_matrix_backward(core::ThreadPool& pool, const core::TensorView& dq, const core::TensorView& dk,
                           const core::TensorView& dlog_decay, const core::TensorView& dd, const core::TensorView& dm,
                           const core::TensorView& q, const core::TensorView& k, const core::TensorView& log_decay,
                           float scale);
}  // namespace cpu

inline void mixer_matrix_forward(Context& ctx, const core::TensorView& m, const core::TensorView& q,
                                 const core::TensorView& k, const core::TensorView& log_decay,
                                 const core::TensorView& d, float scale) {
  return LLAMBA_DISPATCH(ctx, mixer_matrix_forward, m, q, k, log_decay, d, scale);
}
inline void mixer_matrix_backward(Context& ctx, const core::TensorView& dq, const core::TensorView& dk,
                                  const core::TensorView& dlog_decay, const core::TensorView& dd,
                                  const core::TensorView& dm, const core::TensorView& q, const core::TensorView& k,
                                  const core::TensorView& log_decay, float scale) {
  return LLAMBA_DISPATCH(ctx, mixer_matrix_backward, dq, dk, dlog_decay, dd, dm, q, k, log_decay, scale);
}

}  // namespace llamba::ops
