// SwiGLU MLP block shared by Llama, Llamba and GateLoop: out = W_down (silu(W_gate u) ⊙ W_up u), no biases.
// Forward (optionally keeping its activations) and backward (gradients accumulate, llm.c convention).
#pragma once

#include "core/tensor.h"
#include "ops/context.h"
#include "io/gguf.h"
#include "models/model.h"

namespace llamba::models {

struct MlpWeights {
  core::TensorView gate, up, down;  // (F, D), (F, D), (D, F)
};

// What the backward needs: the two projections and their product.
struct MlpActs {
  core::Tensor g, up, act;  // (M, F) each: W_gate u, W_up u, silu(g) ⊙ up
};

// out (M, D) = MLP(u (M, D)). With `keep`, the activations are stored there.
void swiglu_mlp_forward(ops::Context& ctx, const core::TensorView& out, const core::TensorView& u,
                        const MlpWeights& w, MlpActs* keep = nullptr);

struct MlpGrads {
  core::TensorView gate, up, down;  // same shapes as MlpWeights; accumulated
};

// du (M, D) += ∂/∂u, grads += ∂/∂W from dout (M, D).
void swiglu_mlp_backward(ops::Context& ctx, const core::TensorView& du, const MlpGrads& grads,
                         const core::TensorView& dout, const core::TensorView& u, const MlpWeights& w,
                         const MlpActs& acts);

// Layer l's block under its GGUF names blk.<l>.ffn_{gate,up,down}.weight: read with checked shapes, visited in
// file order, and the gradients of those names.
MlpWeights require_mlp(const io::GgufFile& f, int64_t l, int64_t d_model, int64_t ffn_dim);
void visit_mlp(const TensorVisitor& visit, int64_t l, const MlpWeights& w);
MlpGrads mlp_grads(GradientMap& grads, int64_t l);

}  // namespace llamba::models
