// Final norm and LM head shared by every architecture: picks the rows whose logits are wanted (all, or the
// last position of each batch row), normalizes them and projects to the vocabulary.
#pragma once

#include "core/tensor.h"
#include "core/thread_pool.h"
#include "models/model.h"

namespace llamba::models {

struct LmHeadWeights {
  core::TensorView norm;  // (D) f32
  core::TensorView head;  // (V, D): the output matrix, or the token embedding when tied
  float eps = 1e-5f;
};

// h (B·T, D) residual stream after the last layer; logits (B, T, V) or (B, V).
void lm_head_forward(core::ThreadPool& pool, const core::TensorView& h, int64_t batch, const LmHeadWeights& w,
                     float* logits, const ForwardOptions& opts);

}  // namespace llamba::models
