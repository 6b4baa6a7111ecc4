// layernorm: y = (x − mean) / sqrt(var + eps) · w + b per row, biased variance (torch nn.LayerNorm). Used by
// GateLoop's optional sub-LN. Forward and backward.
// Backward convention (llm.c): every gradient output is ACCUMULATED into (+=), callers zero them; a gradient
// view with data == nullptr is not needed and its work is skipped. Gradients never alias inputs.
#pragma once

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

// y, x (M, D) with contiguous rows; w, b (D) f32 (b optional). y may alias x.
inline void layernorm_forward(Context& ctx, const core::TensorView& y, const core::TensorView& x,
                              const core::TensorView& w, const core::TensorView& b, float eps);

// With r = rsqrt(var + eps), x̂ = (x − mean)·r and g = dy ⊙ w per row:
//   dx (M, D) += r · (g − mean(g) − x̂ · mean(g ⊙ x̂)),   dw (D) += Σ_rows dy ⊙ x̂,   db (D) += Σ_rows dy,
// given dy (M, D) and the forward's inputs x (M, D), w (D). Rows of dx, dy, x may be strided. f32.
inline void layernorm_backward(Context& ctx, const core::TensorView& dx, const core::TensorView& dw,
                               const core::TensorView& db, const core::TensorView& dy, const core::TensorView& x,
                               const core::TensorView& w, float eps);

namespace ref {
void layernorm_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                       const core::TensorView& b, double eps);
// Same contract; f32 or f64 views, double arithmetic.
void layernorm_backward(const core::TensorView& dx, const core::TensorView& dw, const core::TensorView& db,
                        const core::TensorView& dy, const core::TensorView& x, const core::TensorView& w, double eps);
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), and the dispatch of the ops above to them.
namespace cpu {
void layernorm_forward(core::ThreadPool& pool, const core::TensorView& y, const core::TensorView& x,
                       const core::TensorView& w, const core::TensorView& b, float eps);
void layernorm_backward(core::ThreadPool& pool, const core::TensorView& dx, const core::TensorView& dw,
                        const core::TensorView& db, const core::TensorView& dy, const core::TensorView& x,
                        const core::TensorView& w, float eps);
}  // namespace cpu

inline void layernorm_forward(Context& ctx, const core::TensorView& y, const core::TensorView& x,
                              const core::TensorView& w, const core::TensorView& b, float eps) {
  return LLAMBA_DISPATCH(ctx, layernorm_forward, y, x, w, b, eps);
}
inline void layernorm_backward(Context& ctx, const core::TensorView& dx, const core::TensorView& dw,
                               const core::TensorView& db, const core::TensorView& dy, const core::TensorView& x,
                               const core::TensorView& w, float eps) {
  return LLAMBA_DISPATCH(ctx, layernorm_backward, dx, dw, db, dy, x, w, eps);
}

}  // namespace llamba::ops
