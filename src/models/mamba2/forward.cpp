// Mamba-2 forward: embedding, then per layer h += mixer(norm(h)) (a pure mixer stack, no MLP), final norm and
// head. Decode (T = 1) is the recurrent step; prefill is chunked from whatever state the sequence carries. A training
// forward (forward_train) is the same pass over fresh states, keeping its activations in a Mamba2Cache. The
// embedding, head and entry points are RecurrentLanguageModel's (models/blocks/recurrent_lm.h); here the layers.
#include "models/mamba2/mamba2.h"
#include "ops/rmsnorm.h"

namespace llamba::models::mamba2 {

using core::DType;
using core::Tensor;

void Mamba2Model::block_forward(ops::Context& ctx, int64_t l, ResidualStream& s, int64_t batch,
                                std::span<RecurrentState* const> rs, const ForwardOptions& opts, MixerForm form,
                                int64_t chunk, LayerActs* acts) const {
  if (opts.observer) (*opts.observer)("hidden", (int)l, s.h);
  if (acts) acts->h_in = Tensor::copy_of(s.h), acts->u = Tensor::zeros(DType::kF32, s.h.shape);
  const core::TensorView ul = acts ? acts->u.view() : s.normed;
  ops::rmsnorm_forward(ctx, ul, s.h, w_.layers[l].attn_norm, (float)c_.norm_eps);
  mixer_forward(ctx, l, ul, batch, rs, s.out, form, chunk, opts.observer, acts ? &acts->mix : nullptr);
  if (opts.observer) (*opts.observer)("mixer_out", (int)l, s.out);
  s.add_out(ctx);
}

}  // namespace llamba::models::mamba2
