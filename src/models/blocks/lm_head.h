// Final norm and LM head shared by every architecture: picks the rows whose logits are wanted (all, or the
// last position of each batch row), normalizes them and projects to the vocabulary; and the training backward.
#pragma once

#include "core/tensor.h"
#include "ops/context.h"
#include "models/model.h"

namespace llamba::models {

struct LmHeadWeights {
  core::TensorView norm;  // (D) f32
  core::TensorView head;  // (V, D): the output matrix, or the token embedding when tied
  float eps = 1e-5f;
};

// h (B·T, D) residual stream after the last layer; logits (B, T − opts.logits_from, V) when all_logits, else
// (B, V), as the model's forward checked (check_logits_view).
// With `keep_normed` (M, D), the normalized rows are stored there (all_logits only).
void lm_head_forward(ops::Context& ctx, const core::TensorView& h, int64_t batch, const LmHeadWeights& w,
                     const core::TensorView& logits, const ForwardOptions& opts,
                     const core::TensorView& keep_normed = {});

// From dlogits (M, V) for every position: dh (M, D) +=, dnorm (D) +=, dhead (V, D) += (the embedding's gradient
// when tied). `hn` is the normalized input kept by the forward.
void lm_head_backward(ops::Context& ctx, const core::TensorView& dh, const core::TensorView& dnorm,
                      const core::TensorView& dhead, const core::TensorView& dlogits, const core::TensorView& h,
                      const core::TensorView& hn, const LmHeadWeights& w);

}  // namespace llamba::models
