// token_scores: what evaluation needs from next-token logits, per row: the log-probability of the target, the
// argmax, and against a base model's logits for the same positions KL(base ‖ model). Forward only (no training
// uses it). Formulas as llama.cpp's perplexity tool: max-subtracted log-sum-exp with fp32 exp and a double sum;
// ties in the argmax go to the lowest id.
#pragma once

#include <span>

#include "core/tensor.h"
#include "ops/context.h"

namespace llamba::ops {

// Per-row outputs, each of M entries (the base ones only used with a base).
struct TokenScoreRows {
  std::span<double> logprob;       // log softmax(logits)[target]
  std::span<int32_t> argmax;       // argmax of logits
  std::span<double> base_logprob;  // log softmax(base)[target]
  std::span<int32_t> base_argmax;  // argmax of base
  std::span<double> kl;            // Σ_v p_base,v · (log p_base,v − log p_v)
};

// logits (M, V) f32 with contiguous rows (rows may be strided); base: empty, or (M, V) like logits; targets (M)
// in [0, V) (llamba::Error otherwise). Rows across threads.
inline void token_scores_forward(Context& ctx, const core::TensorView& logits, const core::TensorView& base,
                                 std::span<const int32_t> targets, const TokenScoreRows& out);

namespace ref {
// Same contract, double arithmetic throughout.
void token_scores_forward(const core::TensorView& logits, const core::TensorView& base,
                          std::span<const int32_t> targets, const TokenScoreRows& out);
}  // namespace ref

// Backends: the CPU kernels (ops/cpu), and the dispatch of the ops above to them.
namespace cpu {
void token_scores_forward(core::ThreadPool& pool, const core::TensorView& logits, const core::TensorView& base,
                          std::span<const int32_t> targets, const TokenScoreRows& out);
}  // namespace cpu

inline void token_scores_forward(Context& ctx, const core::TensorView& logits, const core::TensorView& base,
                                 std::span<const int32_t> targets, const TokenScoreRows& out) {
  return LLAMBA_DISPATCH(ctx, token_scores_forward, logits, base, targets, out);
}

}  // namespace llamba::ops
