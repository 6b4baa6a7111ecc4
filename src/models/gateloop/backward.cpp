// GateLoop training backward, model level: the LM head, then per layer (last to first) the FFN sub-block and the
// time-mixing sub-block (backward_mixer.cpp) with their pre-norms and residuals, then the embedding. The reverse
// of forward.cpp over the activations a training forward kept (GateLoopCache). Every parameter gradient is
// accumulated (+=) into `grads` under its GGUF name; activation gradients are local.
#include <cstring>

#include "models/blocks/lm_head.h"
#include "models/blocks/mlp.h"
#include "models/blocks/weights_util.h"
#include "models/gateloop/gateloop.h"
#include "ops/embedding.h"
#include "ops/gelu.h"
#include "ops/linear.h"
#include "ops/rmsnorm.h"

namespace llamba::models::gateloop {

using core::DType;
using core::Tensor;
using core::TensorView;

void GateLoopModel::ffn_backward(core::ThreadPool& pool, int64_t l, const LayerActs& a, const TensorView& dout,
                                 const TensorView& du, GradientMap& grads) const {
  const LayerWeights& lw = w_.layers[l];
  if (c_.ffn == FfnKind::kSwiglu) {
    swiglu_mlp_backward(pool, du, mlp_grads(grads, l), dout, a.u2, MlpWeights{lw.ffn_gate, lw.ffn_up, lw.ffn_down},
                        a.ffn.mlp);
    return;
  }
  // out = W_down · gelu(W_up · u + b_up) + b_down
  const int64_t M = dout.size(0), F = c_.ffn_dim;
  const auto bias_grad = [&](const TensorView& b, const char* name) {
    return b.data ? grad_of(grads, blk(l, name)) : TensorView{};
  };
  Tensor dact = Tensor::zeros(DType::kF32, {M, F});
  ops::linear_backward(pool, dact, grad_of(grads, blk(l, "ffn_down.weight")), bias_grad(lw.ffn_down_b, "ffn_down.bias"),
                       dout, a.ffn.act, lw.ffn_down);
  Tensor dpre = Tensor::zeros(DType::kF32, {M, F});
  ops::gelu_backward(pool, dpre, {}, dact, a.ffn.pre);
  ops::linear_backward(pool, du, grad_of(grads, blk(l, "ffn_up.weight")), bias_grad(lw.ffn_up_b, "ffn_up.bias"), dpre,
                       a.u2, lw.ffn_up);
}

void GateLoopModel::backward(core::ThreadPool& pool, ForwardCache& base, const float* dlogits,
                             GradientMap& grads) const {
  auto* cache = dynamic_cast<GateLoopCache*>(&base);
  LLAMBA_CHECK(cache && (int64_t)cache->layers.size() == c_.n_layers, "[gateloop backward] not this model's cache");
  const int64_t M = cache->h_final.shape()[0], D = c_.d_model, V = c_.n_vocab;
  const bool tied = w_.output.data == nullptr;
  LmHeadWeights head{w_.output_norm, tied ? w_.token_embd : w_.output, (float)c_.norm_eps};
  Tensor dh = Tensor::zeros(DType::kF32, {M, D});  // ∂L/∂(residual stream), walked backwards through the layers
  lm_head_backward(pool, dh, grad_of(grads, "output_norm.weight"),
                   grad_of(grads, tied ? "token_embd.weight" : "output.weight"),
                   TensorView::contiguous(const_cast<float*>(dlogits), DType::kF32, {M, V}), cache->h_final,
                   cache->hn, head);
  Tensor du = Tensor::zeros(DType::kF32, {M, D});  // ∂L/∂(normed sub-block input)
  for (int64_t l = c_.n_layers - 1; l >= 0; --l) {
    const LayerWeights& lw = w_.layers[l];
    const LayerActs& a = cache->layers[l];
    // h_out = h_mid + FFN(rmsnorm(h_mid)): dh passes through the residual and adds the norm's input gradient.
    std::memset(du.f32(), 0, M * D * sizeof(float));
    ffn_backward(pool, l, a, dh, du, grads);
    ops::rmsnorm_backward(pool, dh, grad_of(grads, blk(l, "ffn_norm.weight")), du, a.h_mid, lw.ffn_norm,
                          (float)c_.norm_eps);
    // h_mid = h_in + mixer(rmsnorm(h_in))
    std::memset(du.f32(), 0, M * D * sizeof(float));
    mixer_backward(pool, l, a, cache->batch, dh, du, grads);
    ops::rmsnorm_backward(pool, dh, grad_of(grads, blk(l, "attn_norm.weight")), du, a.h_in, lw.attn_norm,
                          (float)c_.norm_eps);
  }
  ops::embedding_backward(pool, grad_of(grads, "token_embd.weight"), dh, cache->tokens);
}

}  // namespace llamba::models::gateloop
