// cross_entropy: the next-token loss, mean over the rows that have a target of −log softmax(logits)[target],
// with a max-subtracted log-sum-exp. Forward returns the loss; backward gives ∂loss/∂logits.
// Backward convention (llm.c): the gradient is ACCUMULATED into (+=), callers zero it.
// Chunked use (a mean over several calls, e.g. token chunks fused with the LM head): call backward per chunk with
// dloss = n_valid(chunk) / n_valid(all); the loss is Σ chunk_loss · n_valid(chunk) / n_valid(all).
#pragma once

#include <span>

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

// logits (M, V) f32, rows may be strided; targets (M): a class in [0, V) or negative = ignored (a target >= V
// throws llamba::Error). Returns the mean over non-ignored rows (0 when every row is ignored). Rows across
// threads; exp in fp32, sums in double.
inline double cross_entropy_forward(Context& ctx, const core::TensorView& logits, std::span<const int32_t> targets);

// dlogits (M, V) += dloss · (softmax(logits) − onehot(target)) / n_valid on non-ignored rows (ignored rows get
// nothing). f32; rows may be strided.
inline void cross_entropy_backward(Context& ctx, const core::TensorView& dlogits, const core::TensorView& logits,
                                   std::span<const int32_t> targets, float dloss = 1.0f);

namespace ref {
// Same contracts; f32 or f64 views, double arithmetic.
double cross_entropy_forward(const core::TensorView& logits, std::span<const int32_t> targets);
void cross_entropy_backward(const core::TensorView& dlogits, const core::TensorView& logits,
                            std::span<const int32_t> targets, double dloss = 1.0);
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), and the dispatch of the ops above to them.
namespace cpu {
double cross_entropy_forward(core::ThreadPool& pool, const core::TensorView& logits, std::span<const int32_t> targets);
void cross_entropy_backward(core::ThreadPool& pool, const core::TensorView& dlogits, const core::TensorView& logits,
                            std::span<const int32_t> targets, float dloss);
}  // namespace cpu

inline double cross_entropy_forward(Context& ctx, const core::TensorView& logits, std::span<const int32_t> targets) {
  return LLAMBA_DISPATCH(ctx, cross_entropy_forward, logits, targets);
}
inline void cross_entropy_backward(Context& ctx, const core::TensorView& dlogits, const core::TensorView& logits,
                                   std::span<const int32_t> targets, float dloss) {
  return LLAMBA_DISPATCH(ctx, cross_entropy_backward, dlogits, logits, targets, dloss);
}

}  // namespace llamba::ops
