// frobenius: the MOHAWK stage 1 loss (docs/distillation.md §"Losses and gradients", goombalab/mohawk matrices.py):
// for a student mixer matrix M and a teacher attention matrix A, both (B, H, T, T),
// loss = mean over (b, h) of ‖M[b, h] − A[b, h]‖_F — the Frobenius norm, NOT squared, over the full T×T. Backward:
// dM += dloss · (M − A) / (‖M − A‖_F · B·H), and 0 for a (b, h) whose norm is 0 (no derivative there). Per (b, h)
// this is the row L2 norm of the flattened matrix, so both backends run mse's kMeanRowNorm on a (B·H, T·T) view.
// Backward convention (llm.c): the gradient is ACCUMULATED into (+=), callers zero it.
#pragma once

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

// m, a (B, H, T, T) or (H, T, T) (one batch row), f32, contiguous. Returns the loss.
inline double frobenius_forward(Context& ctx, const core::TensorView& m, const core::TensorView& a);

// dm (shape of m, contiguous) += the gradient above. f32.
inline void frobenius_backward(Context& ctx, const core::TensorView& dm, const core::TensorView& m,
                               const core::TensorView& a, float dloss = 1.0f);

namespace ref {
// Same contracts; f32 or f64 views, double arithmetic.
double frobenius_forward(const core::TensorView& m, const core::TensorView& a);
void frobenius_backward(const core::TensorView& dm, const core::TensorView& m, const core::TensorView& a,
                        double dloss = 1.0);
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), and the dispatch of the ops above to them.
namespace cpu {
double frobenius_forward(core::ThreadPool& pool, const core::TensorView& m, const core::TensorView& a);
void frobenius_backward(core::ThreadPool& pool, const core::TensorView& dm, const core::TensorView& m,
                        const core::TensorView& a, float dloss);
}  // namespace cpu

inline double frobenius_forward(Context& ctx, const core::TensorView& m, const core::TensorView& a) {
  return LLAMBA_DISPATCH(ctx, frobenius_forward, m, a);
}
inline void frobenius_backward(Context& ctx, const core::TensorView& dm, const core::TensorView& m,
                               const core::TensorView& a, float dloss) {
  return LLAMBA_DISPATCH(ctx, frobenius_backward, dm, m, a, dloss);
}

}  // namespace llamba::ops
