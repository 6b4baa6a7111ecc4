// Llamba forward: embedding, then per layer h += mixer(norm(h)); h += mlp(norm(h)); final norm and head. The
// embedding, head and entry points are RecurrentLanguageModel's (models/blocks/recurrent_lm.h); here the layers.
#include <cstring>

#include "models/llamba/llamba.h"
#include "ops/rmsnorm.h"

namespace llamba::models::llamba {

using core::DType;
using core::Tensor;

void LlambaModel::block_forward(ops::Context& ctx, int64_t l, ResidualStream& s, int64_t batch,
                                std::span<RecurrentState* const> rs, const ForwardOptions& opts, MixerForm form,
                                int64_t chunk, LayerActs* acts) const {
  const LayerWeights& lw = w_.layers[l];
  if (opts.observer) (*opts.observer)("hidden", (int)l, s.h);
  if (acts) acts->h_in = Tensor::copy_of(s.h), acts->u1 = Tensor::zeros(DType::kF32, s.h.shape);
  const core::TensorView u1 = acts ? acts->u1.view() : s.normed;
  ops::rmsnorm_forward(ctx, u1, s.h, lw.attn_norm, (float)c_.block_eps);
  mixer_forward(ctx, l, u1, batch, rs, s.out, form, chunk, acts ? &acts->mix : nullptr);
  if (opts.observer) (*opts.observer)("mixer_out", (int)l, s.out);
  s.add_out(ctx);
  if (acts) acts->h_mid = Tensor::copy_of(s.h), acts->u2 = Tensor::zeros(DType::kF32, s.h.shape);
  const core::TensorView u2 = acts ? acts->u2.view() : s.normed;
  ops::rmsnorm_forward(ctx, u2, s.h, lw.ffn_norm, (float)c_.block_eps);
  swiglu_mlp_forward(ctx, s.out, u2, lw.mlp, acts ? &acts->mlp : nullptr);
  s.add_out(ctx);
}

}  // namespace llamba::models::llamba
