// The skeleton the recurrent language models (Llamba, Mamba-2, GateLoop) share, written once: the Model entry
// points forward, forward_with and forward_train over one pass `run` (embedding, the model's layer stack, final
// norm and head), which serves inference (no cache) and the training forward (activations kept in a
// TrainingCache). A model supplies its layers, embedding and head weights, chunk size and state.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "models/blocks/lm_head.h"
#include "models/blocks/ssm_common.h"
#include "models/model.h"
#include "ops/embedding.h"

namespace llamba::models {

// What a training forward keeps for the backward (M = B·T rows); LayerActs is the model's record of one layer.
// One training forward's activations, consumed by one backward. Not thread-safe.
template <class LayerActs>
class TrainingCache final : public ForwardCache {
 public:
  std::vector<int32_t> tokens;  // (B·T)
  int64_t batch = 0;
  std::vector<LayerActs> layers;
  core::Tensor h_final, hn;  // (M, D): residual after the last layer, final-normed
};

// Form: the model's mixer-form enum (it has kChunked and kRecurrent; a model may have more).
template <class Form, class LayerActs>
class RecurrentLanguageModel : public Model {
 public:
  using Cache = TrainingCache<LayerActs>;

  const ModelInfo& info() const override { return info_; }

  // Prefill is chunked from whatever state each row carries; a single token takes decode_form().
  void forward(core::ThreadPool& pool, std::span<const int32_t> tokens, int64_t batch,
               std::span<SequenceState* const> states, float* logits, const ForwardOptions& opts) const override {
    const int64_t T = batch > 0 ? (int64_t)tokens.size() / batch : 0;
    forward_with(pool, tokens, batch, states, logits, opts, T == 1 ? decode_form() : Form::kChunked, chunk_size());
  }

  // forward() with an explicit mixer form and chunk length (mode-equivalence tests, benchmarks).
  void forward_with(core::ThreadPool& pool, std::span<const int32_t> tokens, int64_t batch,
                    std::span<SequenceState* const> states, float* logits, const ForwardOptions& opts, Form form,
                    int64_t chunk) const {
    run(pool, tokens, batch, states, logits, opts, form, chunk, nullptr);
  }

  // The same pass over fresh states with logits for every position, keeping the activations in a Cache.
  std::unique_ptr<ForwardCache> forward_train(core::ThreadPool& pool, std::span<const int32_t> tokens, int64_t batch,
                                              float* logits) const override {
    auto cache = std::make_unique<Cache>();
    FreshStates fresh(*this, batch);
    ForwardOptions opts;
    opts.all_logits = true;
    run(pool, tokens, batch, fresh.ptrs, logits, opts, train_form(), chunk_size(), cache.get());
    return cache;
  }

 protected:
  // Fills info(); called by the subclass constructor once its config is read. The name defaults to the arch's.
  void describe(const io::GgufFile& f, Arch arch, int64_t n_vocab, int64_t d_model, int64_t n_layers) {
    info_.arch = arch;
    info_.name = f.get_string("general.name", std::string(arch_name(arch)));
    info_.n_vocab = n_vocab;
    info_.d_model = d_model;
    info_.n_layers = n_layers;
    info_.recurrent = true;
  }

  // Every layer on the residual stream h (B·T, D), updated in place, continuing and updating each row's state;
  // with `cache`, each layer's activations go to cache->layers[l] (already sized). Taps ("hidden", l) for l < L.
  virtual void layers_forward(core::ThreadPool& pool, const core::Tensor& h, int64_t batch,
                              std::span<RecurrentState* const> states, const ForwardOptions& opts, Form form,
                              int64_t chunk, Cache* cache) const = 0;
  virtual core::TensorView token_embedding() const = 0;  // (V, D)
  virtual LmHeadWeights lm_head() const = 0;
  virtual int64_t chunk_size() const = 0;  // the prefill chunk of forward() and forward_train()
  virtual Form decode_form() const { return Form::kRecurrent; }
  virtual Form train_form() const { return Form::kChunked; }

 private:
  // The one forward over tokens (B, T): continues and updates each row's state; with `cache`, keeps there what
  // the backward needs.
  void run(core::ThreadPool& pool, std::span<const int32_t> tokens, int64_t batch,
           std::span<SequenceState* const> states, float* logits, const ForwardOptions& opts, Form form,
           int64_t chunk, Cache* cache) const {
    const std::string_view name = arch_name(info_.arch);
    LLAMBA_CHECK(batch > 0 && (int64_t)tokens.size() % batch == 0 && (int64_t)states.size() == batch,
                 "[{} forward] {} tokens, batch {}, {} states", name, tokens.size(), batch, states.size());
    const int64_t T = (int64_t)tokens.size() / batch, M = batch * T, L = info_.n_layers;
    if (T == 0) return;
    const std::vector<RecurrentState*> rs = as_recurrent(states, L, name);
    // (B·T, D) residual stream, fp32 (mamba_ssm's residual_in_fp32)
    core::Tensor h = core::Tensor::zeros(core::DType::kF32, {M, info_.d_model});
    ops::embedding_forward(pool, h, token_embedding(), tokens);
    if (cache) {
      cache->tokens.assign(tokens.begin(), tokens.end());
      cache->batch = batch;
      cache->layers.resize(L);
    }
    layers_forward(pool, h, batch, rs, opts, form, chunk, cache);
    if (opts.observer) (*opts.observer)("hidden", (int)L, h.view());
    for (RecurrentState* r : rs) r->n_past += T;
    if (cache) {
      cache->h_final = h;
      cache->hn = core::Tensor::zeros(core::DType::kF32, {M, info_.d_model});
    }
    lm_head_forward(pool, h, batch, lm_head(), logits, opts, cache ? cache->hn.view() : core::TensorView{});
  }

  ModelInfo info_;
};

}  // namespace llamba::models
