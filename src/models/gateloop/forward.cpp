// GateLoop forward: embedding, then per layer h += mixer(rmsnorm(h)); h += ffn(rmsnorm(h)); final norm and head.
// The embedding, head and entry points are RecurrentLanguageModel's (models/blocks/recurrent_lm.h); here the
// layers, which serve inference and the training forward, which keeps its activations (GateLoopCache).
// Taps (Observer): hidden.l, attn_norm.l, the mixer's (mixer.cpp), mixer_out.l, ffn_norm.l, ffn_out.l,
// hidden.L, final_hidden.
#include "models/blocks/mlp.h"
#include "models/gateloop/gateloop.h"
#include "ops/gelu.h"
#include "ops/linear.h"
#include "ops/rmsnorm.h"

namespace llamba::models::gateloop {

using core::DType;
using core::Tensor;

void GateLoopModel::ffn_forward(ops::Context& ctx, int64_t l, const core::TensorView& u,
                                const core::TensorView& out, FfnActs* keep) const {
  const LayerWeights& lw = w_.layers[l];
  if (c_.ffn == FfnKind::kSwiglu) {
    swiglu_mlp_forward(ctx, out, u, MlpWeights{lw.ffn_gate, lw.ffn_up, lw.ffn_down}, keep ? &keep->mlp : nullptr);
    return;
  }
  Tensor hid = Tensor::zeros(DType::kF32, {u.size(0), c_.ffn_dim});  // (B·T, F)
  ops::linear_forward(ctx, hid, u, lw.ffn_up, lw.ffn_up_b);
  Tensor act = keep ? Tensor::zeros(DType::kF32, {u.size(0), c_.ffn_dim}) : hid;  // in place unless kept
  ops::gelu_forward(ctx, act, hid);
  ops::linear_forward(ctx, out, act, lw.ffn_down, lw.ffn_down_b);
  if (keep) keep->pre = hid, keep->act = act;
}

void GateLoopModel::block_forward(ops::Context& ctx, int64_t l, ResidualStream& s, int64_t batch,
                                  std::span<RecurrentState* const> rs, const ForwardOptions& opts, MixerForm form,
                                  int64_t chunk, LayerActs* keep) const {
  const Observer* obs = opts.observer;
  const auto tap = [&](const char* name, int64_t l, const core::TensorView& t) {
    if (obs) (*obs)(name, (int)l, t);
  };
  MixerActs scratch;  // the mixer's intermediates when nothing is kept
  const LayerWeights& lw = w_.layers[l];
  tap("hidden", l, s.h);
  if (keep) keep->h_in = Tensor::copy_of(s.h), keep->u1 = Tensor::zeros(DType::kF32, s.h.shape);
  const core::TensorView u1 = keep ? keep->u1.view() : s.normed;
  ops::rmsnorm_forward(ctx, u1, s.h, lw.attn_norm, (float)c_.norm_eps);
  tap("attn_norm", l, u1);
  mixer_forward(ctx, l, u1, batch, rs, s.out, form, chunk, keep ? keep->mix : scratch, obs);
  tap("mixer_out", l, s.out);
  s.add_out(ctx);
  if (keep) keep->h_mid = Tensor::copy_of(s.h), keep->u2 = Tensor::zeros(DType::kF32, s.h.shape);
  const core::TensorView u2 = keep ? keep->u2.view() : s.normed;
  ops::rmsnorm_forward(ctx, u2, s.h, lw.ffn_norm, (float)c_.norm_eps);
  tap("ffn_norm", l, u2);
  ffn_forward(ctx, l, u2, s.out, keep ? &keep->ffn : nullptr);
  tap("ffn_out", l, s.out);
  s.add_out(ctx);
}

}  // namespace llamba::models::gateloop
