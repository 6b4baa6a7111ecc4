// Llamba forward: embedding, then per layer h += mixer(norm(h)); h += mlp(norm(h)); final norm and head.
#include <cstring>

#include "models/llamba/llamba.h"
#include "ops/embedding.h"
#include "ops/rmsnorm.h"

namespace llamba::models::llamba {

using core::DType;
using core::Tensor;

LlambaModel::LlambaModel(const io::GgufFile& f) : c_(Config::from_gguf(f)), w_(Weights::from_gguf(f, c_)) {
  info_.arch = Arch::kLlamba;
  info_.name = f.get_string("general.name", "llamba");
  info_.n_vocab = c_.n_vocab;
  info_.d_model = c_.d_model;
  info_.n_layers = c_.n_layers;
  info_.recurrent = true;
}

std::unique_ptr<SequenceState> LlambaModel::new_state() const {
  return new_ssm_state(c_.n_layers, c_.conv_kernel - 1, c_.conv_channels(), c_.n_heads, c_.head_dim, c_.d_state);
}

int64_t LlambaModel::state_bytes(int64_t) const {
  return ssm_state_bytes(c_.n_layers, c_.conv_kernel - 1, c_.conv_channels(), c_.n_heads, c_.head_dim, c_.d_state);
}

void LlambaModel::forward(core::ThreadPool& pool, std::span<const int32_t> tokens, int64_t batch,
                          std::span<SequenceState* const> states, float* logits, const ForwardOptions& opts) const {
  const int64_t T = batch > 0 ? (int64_t)tokens.size() / batch : 0;
  forward_with(pool, tokens, batch, states, logits, opts, T == 1 ? MixerForm::kRecurrent : MixerForm::kChunked,
               c_.chunk_size);
}

void LlambaModel::forward_with(core::ThreadPool& pool, std::span<const int32_t> tokens, int64_t batch,
                               std::span<SequenceState* const> states, float* logits, const ForwardOptions& opts,
                               MixerForm form, int64_t chunk) const {
  run(pool, tokens, batch, states, logits, opts, form, chunk, nullptr);
}

std::unique_ptr<ForwardCache> LlambaModel::forward_train(core::ThreadPool& pool, std::span<const int32_t> tokens,
                                                         int64_t batch, float* logits) const {
  auto cache = std::make_unique<LlambaCache>();
  FreshStates fresh(*this, batch);
  ForwardOptions opts;
  opts.all_logits = true;
  run(pool, tokens, batch, fresh.ptrs, logits, opts, MixerForm::kChunked, c_.chunk_size, cache.get());
  return cache;
}

void LlambaModel::run(core::ThreadPool& pool, std::span<const int32_t> tokens, int64_t batch,
                      std::span<SequenceState* const> states, float* logits, const ForwardOptions& opts,
                      MixerForm form, int64_t chunk, LlambaCache* cache) const {
  LLAMBA_CHECK(batch > 0 && (int64_t)tokens.size() % batch == 0 && (int64_t)states.size() == batch,
               "[llamba forward] {} tokens, batch {}, {} states", tokens.size(), batch, states.size());
  const int64_t T = (int64_t)tokens.size() / batch, M = batch * T, D = c_.d_model;
  if (T == 0) return;
  const std::vector<RecurrentState*> rs = as_recurrent(states, c_.n_layers, "llamba");
  Tensor h = Tensor::zeros(DType::kF32, {M, D});
  ops::embedding_forward(pool, h, w_.token_embd, tokens);
  Tensor u = Tensor::zeros(DType::kF32, {M, D}), o = Tensor::zeros(DType::kF32, {M, D});
  float* hp = h.f32();
  if (cache) {
    cache->tokens.assign(tokens.begin(), tokens.end());
    cache->batch = batch;
    cache->layers.resize(c_.n_layers);
  }
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
  if (opts.observer) (*opts.observer)("hidden", (int)c_.n_layers, h.view());
  for (RecurrentState* r : rs) r->n_past += T;
  LmHeadWeights head{w_.output_norm, w_.output.data ? w_.output : w_.token_embd, (float)c_.norm_eps};
  if (cache) {
    cache->h_final = h;
    cache->hn = Tensor::zeros(DType::kF32, {M, D});
  }
  lm_head_forward(pool, h, batch, head, logits, opts, cache ? cache->hn.view() : core::TensorView{});
}

}  // namespace llamba::models::llamba
