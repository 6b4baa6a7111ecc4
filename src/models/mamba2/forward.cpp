// Mamba-2 forward: embedding, then per layer h += mixer(norm(h)) (a pure mixer stack, no MLP), final norm and
// head. Decode (T = 1) is the recurrent step; prefill is chunked from whatever state the sequence carries. A training
// forward (forward_train) is the same pass over fresh states, keeping its activations in a Mamba2Cache.
#include "models/mamba2/mamba2.h"
#include "ops/embedding.h"
#include "ops/rmsnorm.h"

namespace llamba::models::mamba2 {

using core::DType;
using core::Tensor;

Mamba2Model::Mamba2Model(const io::GgufFile& f) : c_(Config::from_gguf(f)), w_(Weights::from_gguf(f, c_)) {
  info_.arch = Arch::kMamba2;
  info_.name = f.get_string("general.name", "mamba2");
  info_.n_vocab = c_.n_vocab;
  info_.d_model = c_.d_model;
  info_.n_layers = c_.n_layers;
  info_.recurrent = true;
}

std::unique_ptr<SequenceState> Mamba2Model::new_state() const {
  return new_ssm_state(c_.n_layers, c_.conv_kernel - 1, c_.conv_channels(), c_.n_heads, c_.head_dim, c_.d_state);
}

int64_t Mamba2Model::state_bytes(int64_t) const {
  return ssm_state_bytes(c_.n_layers, c_.conv_kernel - 1, c_.conv_channels(), c_.n_heads, c_.head_dim, c_.d_state);
}

void Mamba2Model::forward(core::ThreadPool& pool, std::span<const int32_t> tokens, int64_t batch,
                          std::span<SequenceState* const> states, float* logits, const ForwardOptions& opts) const {
  const int64_t T = batch > 0 ? (int64_t)tokens.size() / batch : 0;
  forward_with(pool, tokens, batch, states, logits, opts, T == 1 ? MixerForm::kRecurrent : MixerForm::kChunked,
               c_.chunk_size);
}

void Mamba2Model::forward_with(core::ThreadPool& pool, std::span<const int32_t> tokens, int64_t batch,
                               std::span<SequenceState* const> states, float* logits, const ForwardOptions& opts,
                               MixerForm form, int64_t chunk) const {
  run(pool, tokens, batch, states, logits, opts, form, chunk, nullptr);
}

std::unique_ptr<ForwardCache> Mamba2Model::forward_train(core::ThreadPool& pool, std::span<const int32_t> tokens,
                                                         int64_t batch, float* logits) const {
  auto cache = std::make_unique<Mamba2Cache>();
  FreshStates fresh(*this, batch);
  ForwardOptions opts;
  opts.all_logits = true;
  run(pool, tokens, batch, fresh.ptrs, logits, opts, MixerForm::kChunked, c_.chunk_size, cache.get());
  return cache;
}

void Mamba2Model::run(core::ThreadPool& pool, std::span<const int32_t> tokens, int64_t batch,
                      std::span<SequenceState* const> states, float* logits, const ForwardOptions& opts,
                      MixerForm form, int64_t chunk, Mamba2Cache* cache) const {
  LLAMBA_CHECK(batch > 0 && (int64_t)tokens.size() % batch == 0 && (int64_t)states.size() == batch,
               "[mamba2 forward] {} tokens, batch {}, {} states", tokens.size(), batch, states.size());
  const int64_t T = (int64_t)tokens.size() / batch, M = batch * T, D = c_.d_model;
  if (T == 0) return;
  const std::vector<RecurrentState*> rs = as_recurrent(states, c_.n_layers, "mamba2");
  Tensor h = Tensor::zeros(DType::kF32, {M, D});  // (B·T, D) residual stream, fp32 (residual_in_fp32)
  ops::embedding_forward(pool, h, w_.token_embd, tokens);
  Tensor u = Tensor::zeros(DType::kF32, {M, D}), o = Tensor::zeros(DType::kF32, {M, D});
  float* hp = h.f32();
  if (cache) {
    cache->tokens.assign(tokens.begin(), tokens.end());
    cache->batch = batch;
    cache->layers.resize(c_.n_layers);
  }
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
  if (opts.observer) (*opts.observer)("hidden", (int)c_.n_layers, h.view());
  for (RecurrentState* r : rs) r->n_past += T;
  LmHeadWeights head{w_.output_norm, w_.output.data ? w_.output : w_.token_embd, (float)c_.norm_eps};
  if (cache) {
    cache->h_final = h;
    cache->hn = Tensor::zeros(DType::kF32, {M, D});
  }
  lm_head_forward(pool, h, batch, head, logits, opts, cache ? cache->hn.view() : core::TensorView{});
}

}  // namespace llamba::models::mamba2
