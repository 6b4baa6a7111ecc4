// Mamba-2 forward: embedding, then per layer h += mixer(norm(h)) (a pure mixer stack, no MLP), final norm and
// head. Decode (T = 1) is the recurrent step; prefill is chunked from whatever state the sequence carries. A training
// forward (forward_train) is the same pass over fresh states, keeping its activations in a Mamba2Cache. The
// embedding, head and entry points are RecurrentLanguageModel's (models/blocks/recurrent_lm.h); here the layers.
#include "models/mamba2/mamba2.h"
#include "ops/rmsnorm.h"

namespace llamba::models::mamba2 {

using core::DType;
using core::Tensor;

Mamba2Model::Mamba2Model(const io::GgufFile& f) : c_(Config::from_gguf(f)), w_(Weights::from_gguf(f, c_)) {
  describe(f, Arch::kMamba2, c_.n_vocab, c_.d_model, c_.n_layers);
}

std::unique_ptr<SequenceState> Mamba2Model::new_state() const {
  return new_ssm_state(c_.n_layers, c_.conv_kernel - 1, c_.conv_channels(), c_.n_heads, c_.head_dim, c_.d_state);
}

int64_t Mamba2Model::state_bytes(int64_t) const {
  return ssm_state_bytes(c_.n_layers, c_.conv_kernel - 1, c_.conv_channels(), c_.n_heads, c_.head_dim, c_.d_state);
}

void Mamba2Model::layers_forward(core::ThreadPool& pool, const Tensor& h, int64_t batch,
                                 std::span<RecurrentState* const> rs, const ForwardOptions& opts, MixerForm form,
                                 int64_t chunk, Mamba2Cache* cache) const {
  const int64_t M = h.shape()[0], D = c_.d_model;
  Tensor u = Tensor::zeros(DType::kF32, {M, D}), o = Tensor::zeros(DType::kF32, {M, D});
  float* hp = h.f32();
  for (int64_t l = 0; l < c_.n_layers; ++l) {
    LayerActs* acts = cache ? &cache->layers[l] : nullptr;
    if (opts.observer) (*opts.observer)("hidden", (int)l, h.view());
    if (acts) acts->h_in = Tensor::copy_of(h), acts->u = Tensor::zeros(DType::kF32, {M, D});
    const core::TensorView ul = acts ? acts->u.view() : u.view();
    ops::rmsnorm_forward(pool, ul, h, w_.layers[l].attn_norm, (float)c_.norm_eps);
    mixer_forward(pool, l, ul, batch, rs, o, form, chunk, opts.observer, acts ? &acts->mix : nullptr);
    if (opts.observer) (*opts.observer)("mixer_out", (int)l, o.view());
    for (int64_t i = 0; i < M * D; ++i) hp[i] += o.f32()[i];
  }
}

}  // namespace llamba::models::mamba2
