// Llamba forward: embedding, then per layer h += mixer(norm(h)); h += mlp(norm(h)); final norm and head. The
// embedding, head and entry points are RecurrentLanguageModel's (models/blocks/recurrent_lm.h); here the layers.
#include <cstring>

#include "models/llamba/llamba.h"
#include "ops/rmsnorm.h"

namespace llamba::models::llamba {

using core::DType;
using core::Tensor;

LlambaModel::LlambaModel(const io::GgufFile& f) : c_(Config::from_gguf(f)), w_(Weights::from_gguf(f, c_)) {
  describe(f, Arch::kLlamba, c_.n_vocab, c_.d_model, c_.n_layers);
}

std::unique_ptr<SequenceState> LlambaModel::new_state() const {
  return new_ssm_state(c_.n_layers, c_.conv_kernel - 1, c_.conv_channels(), c_.n_heads, c_.head_dim, c_.d_state);
}

int64_t LlambaModel::state_bytes(int64_t) const {
  return ssm_state_bytes(c_.n_layers, c_.conv_kernel - 1, c_.conv_channels(), c_.n_heads, c_.head_dim, c_.d_state);
}

void LlambaModel::layers_forward(core::ThreadPool& pool, const Tensor& h, int64_t batch,
                                 std::span<RecurrentState* const> rs, const ForwardOptions& opts, MixerForm form,
                                 int64_t chunk, LlambaCache* cache) const {
  const int64_t M = h.shape()[0], D = c_.d_model;
  Tensor u = Tensor::zeros(DType::kF32, {M, D}), o = Tensor::zeros(DType::kF32, {M, D});
  float* hp = h.f32();
  for (int64_t l = 0; l < c_.n_layers; ++l) {
    const LayerWeights& lw = w_.layers[l];
    LayerActs* acts = cache ? &cache->layers[l] : nullptr;
    if (opts.observer) (*opts.observer)("hidden", (int)l, h.view());
    if (acts) acts->h_in = Tensor::copy_of(h), acts->u1 = Tensor::zeros(DType::kF32, {M, D});
    const core::TensorView u1 = acts ? acts->u1.view() : u.view();
    ops::rmsnorm_forward(pool, u1, h, lw.attn_norm, (float)c_.block_eps);
    mixer_forward(pool, l, u1, batch, rs, o, form, chunk, acts ? &acts->mix : nullptr);
    if (opts.observer) (*opts.observer)("mixer_out", (int)l, o.view());
    for (int64_t i = 0; i < M * D; ++i) hp[i] += o.f32()[i];
    if (acts) acts->h_mid = Tensor::copy_of(h), acts->u2 = Tensor::zeros(DType::kF32, {M, D});
    const core::TensorView u2 = acts ? acts->u2.view() : u.view();
    ops::rmsnorm_forward(pool, u2, h, lw.ffn_norm, (float)c_.block_eps);
    swiglu_mlp_forward(pool, o, u2, lw.mlp, acts ? &acts->mlp : nullptr);
    for (int64_t i = 0; i < M * D; ++i) hp[i] += o.f32()[i];
  }
}

}  // namespace llamba::models::llamba
