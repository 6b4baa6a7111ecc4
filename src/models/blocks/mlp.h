// SwiGLU MLP block shared by Llama and Llamba: out = W_down (silu(W_gate u) ⊙ W_up u), no biases.
#pragma once

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace llamba::models {

struct MlpWeights {
  core::TensorView gate, up, down;  // (F, D), (F, D), (D, F)
};

// out (M, D) = MLP(u (M, D)). Allocates its (M, F) scratch.
void swiglu_mlp_forward(core::ThreadPool& pool, const core::TensorView& out, const core::TensorView& u,
                        const MlpWeights& w);

}  // namespace llamba::models
