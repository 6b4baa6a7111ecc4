// mse: L2 distances between hidden states (student vs teacher), forward (the loss) and backward, with two
// reductions, named for what they compute:
//   kMeanSquare  = Σ_{m,d} (a − b)² / (M·D)       — torch MSELoss(reduction="mean").
//   kMeanRowNorm = Σ_m ‖a_m − b_m‖₂ / M  (NOT squared) — MOHAWK stage 2 exactly (goombalab/mohawk hstates.py,
//                  docs/distillation.md §"Losses and gradients"): rows are the (b, t) positions of a (B·T, D) view, the
//                  norm runs over D. A row with zero distance gets zero gradient (the norm has no derivative there).
// Backward convention (llm.c): gradients are ACCUMULATED into (+=), callers zero them; an empty gradient view is
// not needed. Chunked use: as in cross_entropy.h, pass dloss = rows(chunk) / rows(all).
#pragma once

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

enum class L2Loss { kMeanSquare, kMeanRowNorm };

// a, b (M, D) f32, rows may be strided. Returns the loss (0 when M·D = 0). Rows across threads, double sums.
inline double mse_forward(Context& ctx, const core::TensorView& a, const core::TensorView& b,
                          L2Loss kind = L2Loss::kMeanSquare);

// da (M, D) += ∂loss/∂a · dloss, db (M, D) += ∂loss/∂b · dloss (= −the same), each optional. f32.
inline void mse_backward(Context& ctx, const core::TensorView& da, const core::TensorView& db,
                         const core::TensorView& a, const core::TensorView& b, L2Loss kind = L2Loss::kMeanSquare,
                         float dloss = 1.0f);

namespace ref {
// Same contracts; f32 or f64 views, double arithmetic.
double mse_forward(const core::TensorView& a, const core::TensorView& b, L2Loss kind = L2Loss::kMeanSquare);
void mse_backward(const core::TensorView& da, const core::TensorView& db, const core::TensorView& a,
                  const core::TensorView& b, L2Loss kind = L2Loss::kMeanSquare, double dloss = 1.0);
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), and the dispatch of the ops above to them.
namespace cpu {
double mse_forward(core::ThreadPool& pool, const core::TensorView& a, const core::TensorView& b, L2Loss kind);
void mse_backward(core::ThreadPool& pool, const core::TensorView& da, const core::TensorView& db,
                  const core::TensorView& a, const core::TensorView& b, L2Loss kind, float dloss);
}  // namespace cpu

inline double mse_forward(Context& ctx, const core::TensorView& a, const core::TensorView& b, L2Loss kind) {
  return LLAMBA_DISPATCH(ctx, mse_forward, a, b, kind);
}
inline void mse_backward(Context& ctx, const core::TensorView& da, const core::TensorView& db,
                         const core::TensorView& a, const core::TensorView& b, L2Loss kind, float dloss) {
  return LLAMBA_DISPATCH(ctx, mse_backward, da, db, a, b, kind, dloss);
}

}  // namespace llamba::ops
