// GateLoop training backward, model level: per layer (last to first) the FFN sub-block and the time-mixing
// sub-block (backward_mixer.cpp) with their pre-norms and residuals; the head and embedding ends are
// RecurrentLanguageModel's. The reverse of forward.cpp over the activations a training forward kept
// (GateLoopCache). Every parameter gradient is accumulated (+=) into `grads` under its GGUF name; activation
// gradients are local.
#include "models/blocks/mlp.h"
#include "models/blocks/weights_util.h"
#include "models/gateloop/gateloop.h"
#include "ops/gelu.h"
#include "ops/linear.h"

namespace llamba::models::gateloop {

using core::DType;
using core::Tensor;
using core::TensorView;

void GateLoopModel::ffn_backward(ops::Context& ctx, int64_t l, const LayerActs& a, const TensorView& dout,
                                 const TensorView& du, GradientMap& grads) const {
  const LayerWeights& lw = w_.layers[l];
  if (c_.ffn == FfnKind::kSwiglu) {
    swiglu_mlp_backward(ctx, du, mlp_grads(grads, l), dout, a.u2, MlpWeights{lw.ffn_gate, lw.ffn_up, lw.ffn_down},
                        a.ffn.mlp);
    return;
  }
  // out = W_down · gelu(W_up · u + b_up) + b_down
  const int64_t M = dout.size(0), F = c_.ffn_dim;
  const auto bias_grad = [&](const TensorView& b, const char* name) {
    return b.data ? grad_of(grads, blk(l, name)) : TensorView{};
  };
  Tensor dact = Tensor::zeros(DType::kF32, {M, F});
  ops::linear_backward(ctx, dact, grad_of(grads, blk(l, "ffn_down.weight")), bias_grad(lw.ffn_down_b, "ffn_down.bias"),
                       dout, a.ffn.act, lw.ffn_down);
  Tensor dpre = Tensor::zeros(DType::kF32, {M, F});
  ops::gelu_backward(ctx, dpre, {}, dact, a.ffn.pre);
  ops::linear_backward(ctx, du, grad_of(grads, blk(l, "ffn_up.weight")), bias_grad(lw.ffn_up_b, "ffn_up.bias"), dpre,
                       a.u2, lw.ffn_up);
}

void GateLoopModel::block_backward(ops::Context& ctx, int64_t l, const LayerActs& a, int64_t batch, ResidualGrad& g,
                                   GradientMap& grads) const {
  const float eps = (float)c_.norm_eps;
  const LayerWeights& lw = w_.layers[l];
  // h_out = h_mid + FFN(rmsnorm(h_mid))
  g.prenorm_block(ctx, grad_of(grads, blk(l, "ffn_norm.weight")), a.h_mid, lw.ffn_norm, eps,
                  [&] { ffn_backward(ctx, l, a, g.dh, g.du, grads); });
  // h_mid = h_in + mixer(rmsnorm(h_in))
  g.prenorm_block(ctx, grad_of(grads, blk(l, "attn_norm.weight")), a.h_in, lw.attn_norm, eps,
                  [&] { mixer_backward(ctx, l, a, batch, g.dh, g.du, grads); });
}

}  // namespace llamba::models::gateloop
