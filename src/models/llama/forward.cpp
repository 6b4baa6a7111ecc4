// Llama forward: per batch row, each layer appends its keys/values to the row's KvCache and attends causally.
#include <cmath>
#include <cstring>

#include "models/llama/llama.h"
#include "ops/attention.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/rmsnorm.h"
#include "ops/rope.h"

namespace llamba::models::llama {

using core::DType;
using core::Tensor;
using core::TensorView;

LlamaModel::LlamaModel(const io::GgufFile& f) : c_(Config::from_gguf(f)), w_(Weights::from_gguf(f, c_)) {
  info_.arch = Arch::kLlama;
  info_.name = f.get_string("general.name", "llama");
  info_.n_vocab = c_.n_vocab;
  info_.d_model = c_.d_model;
  info_.n_layers = c_.n_layers;
  info_.context_length = c_.context_length;
  std::vector<float> factors;
  if (w_.rope_freqs.data) factors.assign(w_.rope_freqs.f32(), w_.rope_freqs.f32() + c_.rope_dim / 2);
  inv_freq_ = ops::rope_inv_freq(c_.rope_dim, c_.rope_base, factors);
}

std::unique_ptr<SequenceState> LlamaModel::new_state() const {
  return std::make_unique<KvCache>(c_.n_layers, c_.n_kv_heads, c_.head_dim);
}

int64_t LlamaModel::state_bytes(int64_t n_tokens) const {
  return 2 * c_.n_layers * n_tokens * c_.n_kv_heads * c_.head_dim * (int64_t)sizeof(float);
}

void LlamaModel::block_forward(ops::Context& ctx, int64_t l, const TensorView& h, KvCache& cache,
                               std::span<const int64_t> positions, const TensorView& attn_probs,
                               const TensorView& attn_out) const {
  const LayerWeights& lw = w_.layers[l];
  const int64_t T = h.size(0), D = c_.d_model, hd = c_.head_dim, Hq = c_.n_heads, Hkv = c_.n_kv_heads;
  const int64_t n_past = cache.n_past;
  Tensor u = Tensor::zeros(DType::kF32, {T, D});
  ops::rmsnorm_forward(ctx, u, h, lw.attn_norm, (float)c_.rms_eps);
  Tensor q = Tensor::zeros(DType::kF32, {T, Hq * hd});
  ops::linear_forward(ctx, q, u, lw.wq);
  // Keys and values go straight into the cache rows [n_past, n_past + T).
  const TensorView kc = cache.k(l), vc = cache.v(l);
  const TensorView k_new = kc.slice(0, n_past, n_past + T).reshape({T, Hkv * hd});
  const TensorView v_new = vc.slice(0, n_past, n_past + T).reshape({T, Hkv * hd});
  ops::linear_forward(ctx, k_new, u, lw.wk);
  ops::linear_forward(ctx, v_new, u, lw.wv);
  // GGUF llama files carry llama.cpp's Q/K row permutation, which turns HF's rotate_half into adjacent pairs.
  ops::rope_forward(ctx, q.view().reshape({T, Hq, hd}), positions, inv_freq_, ops::RopeStyle::kInterleaved);
  ops::rope_forward(ctx, k_new.reshape({T, Hkv, hd}), positions, inv_freq_, ops::RopeStyle::kInterleaved);
  Tensor att = Tensor::zeros(DType::kF32, {T, Hq, hd});
  ops::attention_forward(ctx, att, q.view().reshape({T, Hq, hd}), kc, vc, n_past, 1.0f / std::sqrt((float)hd),
                         attn_probs);
  Tensor o = Tensor::zeros(DType::kF32, {T, D});
  ops::linear_forward(ctx, o, att.view().reshape({T, Hq * hd}), lw.wo);
  if (attn_out.data) std::memcpy(attn_out.f32(), o.f32(), T * D * sizeof(float));
  float* hp = h.f32();
  for (int64_t i = 0; i < T * D; ++i) hp[i] += o.f32()[i];
  ops::rmsnorm_forward(ctx, u, h, lw.ffn_norm, (float)c_.rms_eps);
  swiglu_mlp_forward(ctx, o, u, lw.mlp);
  for (int64_t i = 0; i < T * D; ++i) hp[i] += o.f32()[i];
}

void LlamaModel::forward(ops::Context& ctx, std::span<const int32_t> tokens, int64_t batch,
                         std::span<SequenceState* const> states, const core::TensorView& logits,
                         const ForwardOptions& opts) const {
  LLAMBA_CHECK(batch > 0 && (int64_t)tokens.size() % batch == 0 && (int64_t)states.size() == batch,
               "[llama forward] {} tokens, batch {}, {} states", tokens.size(), batch, states.size());
  const int64_t T = (int64_t)tokens.size() / batch, D = c_.d_model;
  if (T == 0) return;
  check_logits_view(ctx, logits, batch, T, info_.n_vocab, opts);
  Tensor h = Tensor::zeros(DType::kF32, {batch * T, D});
  ops::embedding_forward(ctx, h, w_.token_embd, tokens);
  std::vector<KvCache*> caches;
  for (SequenceState* s : states) {
    auto* kv = dynamic_cast<KvCache*>(s);
    LLAMBA_CHECK(kv, "[llama forward] state is not a KvCache");
    if (c_.context_length > 0)
      LLAMBA_ENSURE(kv->n_past + T <= c_.context_length,
                    "context full: {} + {} tokens exceed the model's context length {}", kv->n_past, T,
                    c_.context_length);
    kv->reserve(kv->n_past + T);
    caches.push_back(kv);
  }
  // Teacher taps (MOHAWK): the attention output before its residual add, and with opts.attention_probs the
  // softmax probabilities (B, Hq, T, S), S = n_past + T (equal across rows when they are).
  const bool taps = opts.observer != nullptr;
  const int64_t S = caches[0]->n_past + T;
  Tensor attn_out = taps ? Tensor::zeros(DType::kF32, {batch * T, D}) : Tensor();
  Tensor probs = taps && opts.attention_probs ? Tensor::zeros(DType::kF32, {batch, c_.n_heads, T, S}) : Tensor();
  if (!probs.empty())
    for (KvCache* kv : caches)
      LLAMBA_ENSURE(kv->n_past + T == S, "[llama forward] attention_probs needs rows of equal history");
  for (int64_t l = 0; l < c_.n_layers; ++l) {
    if (opts.observer) (*opts.observer)("hidden", (int)l, h.view());
    for (int64_t b = 0; b < batch; ++b) {
      std::vector<int64_t> pos(T);
      for (int64_t t = 0; t < T; ++t) pos[t] = caches[b]->n_past + t;
      block_forward(ctx, l, h.view().slice(0, b * T, (b + 1) * T), *caches[b], pos,
                    !probs.empty() ? probs.view().select(0, b) : TensorView{},
                    taps ? attn_out.view().slice(0, b * T, (b + 1) * T) : TensorView{});
    }
    if (taps) (*opts.observer)("mixer_out", (int)l, attn_out.view());
    if (!probs.empty()) (*opts.observer)("attn_probs", (int)l, probs.view());
  }
  if (opts.observer) (*opts.observer)("hidden", (int)c_.n_layers, h.view());
  for (KvCache* kv : caches) kv->n_past += T;
  LmHeadWeights head{w_.output_norm, w_.output.data ? w_.output : w_.token_embd, (float)c_.rms_eps};
  lm_head_forward(ctx, h, batch, head, logits, opts);
}

}  // namespace llamba::models::llama
