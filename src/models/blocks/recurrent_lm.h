// The skeleton the recurrent language models (Llamba, Mamba-2, GateLoop) share, written once: the Model entry
// points forward, forward_with and forward_train over one pass `run` (embedding, the model's layer stack, final
// norm and head), which serves inference (no cache) and the training forward (activations kept in a
// TrainingCache); the training backward's head and embedding ends; the config and weights read from the file, and
// the per-sequence state. A model supplies its layers (layers_forward, layers_backward).
#pragma once

#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/gguf.h"
#include "models/blocks/lm_head.h"
#include "models/blocks/ssm_common.h"
#include "models/model.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/memory.h"
#include "ops/rmsnorm.h"

namespace llamba::models {

// What one training forward keeps for one backward (M = B·T rows); LayerActs is the model's record of a layer.
// Not thread-safe.
// What layer_forward keeps for layer_backward: one layer's activations.
template <class LayerActs>
class LayerCache final : public ForwardCache {
 public:
  int64_t layer = 0, batch = 0;
  LayerActs acts;
};

template <class LayerActs>
class TrainingCache final : public ForwardCache {
 public:
  std::vector<int32_t> tokens;  // (B·T)
  int64_t batch = 0;
  std::vector<LayerActs> layers;
  core::Tensor h_final, hn;  // (M, D): residual after the last layer, final-normed
};

// The residual stream of one forward pass and the buffers its layers reuse, all (B·T, D) fp32 views: a pre-norm
// sub-block normalizes h into `normed` (unless training keeps its input elsewhere), writes `out`, then add_out().
// They come uninitialized from the context's arena (the embedding, the norms and the sub-blocks write them in full);
// h is an owned tensor when training keeps it.
struct ResidualStream {
  core::Tensor h_kept;  // h's memory when the caller keeps it
  core::TensorView h, normed, out;

  ResidualStream(ops::Scratch& scratch, const core::Shape& shape, bool keep_h)
      : h_kept(keep_h ? core::Tensor::zeros(core::DType::kF32, shape) : core::Tensor()),
        h(keep_h ? h_kept.view() : scratch.empty(core::DType::kF32, shape)),
        normed(scratch.empty(core::DType::kF32, shape)),
        out(scratch.empty(core::DType::kF32, shape)) {}
  void add_out(ops::Context& ctx) { ops::add_inplace(ctx, h, out); }  // h += out
};

// The training backward's walk down the residual stream, last layer first: dh (B·T, D) = ∂L/∂h, and du, scratch for
// the gradient of one sub-block's normed input.
struct ResidualGrad {
  core::Tensor dh, du;

  explicit ResidualGrad(const core::Shape& shape)
      : dh(core::Tensor::zeros(core::DType::kF32, shape)), du(core::Tensor::zeros(core::DType::kF32, shape)) {}
  // Back through h_out = h_in + f(rmsnorm(h_in)): `f_backward` adds ∂L/∂u into du from dh (= ∂L/∂f's output); dh
  // passes the residual unchanged and gains the norm's input gradient (dnorm: the norm weight's, accumulated).
  template <class FBackward>
  void prenorm_block(ops::Context& ctx, const core::TensorView& dnorm, const core::TensorView& h_in,
                     const core::TensorView& norm_w, float eps, FBackward&& f_backward) {
    std::memset(du.f32(), 0, du.numel() * sizeof(float));
    f_backward();
    ops::rmsnorm_backward(ctx, dh, dnorm, du, h_in, norm_w, eps);
  }
};

// A model's Config (n_vocab, d_model, n_layers, norm_eps of the final norm, chunk_size, state_shape(), from_gguf)
// and Weights (token_embd, output_norm, output (null when tied), for_each, from_gguf), its per-layer activations
// LayerActs, and its mixer-form enum Form (with kChunked and kRecurrent; a model may have more).
template <class Config, class Weights, class LayerActs, class Form>
class RecurrentLanguageModel : public Model {
 public:
  using Cache = TrainingCache<LayerActs>;
  using OneLayerCache = LayerCache<LayerActs>;

  const ModelInfo& info() const override { return info_; }
  const Config& config() const { return c_; }
  const Weights& weights() const { return w_; }
  void for_each_tensor(const TensorVisitor& visit) const override { w_.for_each(visit); }
  std::unique_ptr<SequenceState> new_state() const override { return c_.state_shape().new_state(); }
  std::unique_ptr<SequenceState> new_state(ops::Context& ctx) const override {
    return c_.state_shape().new_state(ctx);
  }
  std::vector<std::unique_ptr<SequenceState>> new_states(ops::Context& ctx, int64_t n) const override {
    std::vector<std::unique_ptr<SequenceState>> out;
    for (auto& s : c_.state_shape().new_states(ctx, n)) out.push_back(std::move(s));
    return out;
  }
  void place_weights(ops::Context& ctx) override {
    if (ctx.device() == weights_device()) return;
    LLAMBA_ENSURE(weights_device() == core::Device::kCpu, "[{} place_weights] the weights are already on {}",
                  arch_name(info_.arch), core::device_name(weights_device()));
    // for_each hands out the Weights members themselves (views into the file's mapping); each is pointed at its
    // device copy, which placed_ owns. Tied tensors are one member, visited once.
    w_.for_each([&](const std::string&, const core::TensorView& t) {
      if (!t.data) return;
      placed_.push_back(ops::to_device(ctx, t));
      const_cast<core::TensorView&>(t) = placed_.back().view();
    });
    device_ = ctx.device();
  }
  core::Device weights_device() const override { return device_; }
  int64_t state_bytes(int64_t) const override { return c_.state_shape().bytes(); }  // constant

  // Prefill is chunked from whatever state each row carries; a single token takes decode_form().
  void forward(ops::Context& ctx, std::span<const int32_t> tokens, int64_t batch,
               std::span<SequenceState* const> states, const core::TensorView& logits,
               const ForwardOptions& opts) const override {
    const int64_t T = batch > 0 ? (int64_t)tokens.size() / batch : 0;
    forward_with(ctx, tokens, batch, states, logits, opts, T == 1 ? decode_form() : Form::kChunked, c_.chunk_size);
  }

  // forward() with an explicit mixer form and chunk length (mode-equivalence tests, benchmarks).
  void forward_with(ops::Context& ctx, std::span<const int32_t> tokens, int64_t batch,
                    std::span<SequenceState* const> states, const core::TensorView& logits, const ForwardOptions& opts,
                    Form form, int64_t chunk) const {
    run(ctx, tokens, batch, states, logits, opts, form, chunk, nullptr);
  }

  // The same pass over fresh states with logits for every position, keeping the activations in a Cache.
  std::unique_ptr<ForwardCache> forward_train(ops::Context& ctx, std::span<const int32_t> tokens, int64_t batch,
                                              const core::TensorView& logits) const override {
    auto cache = std::make_unique<Cache>();
    FreshStates fresh(*this, batch);
    ForwardOptions opts;
    opts.all_logits = true;
    run(ctx, tokens, batch, fresh.ptrs, logits, opts, train_form(), c_.chunk_size, cache.get());
    return cache;
  }

  // Back through the head, the model's layers (layers_backward) and the embedding, from dlogits (B, T, V).
  void backward(ops::Context& ctx, ForwardCache& base, const core::TensorView& dlogits,
                GradientMap& grads) const final {
    auto* cache = dynamic_cast<Cache*>(&base);
    LLAMBA_CHECK(cache && (int64_t)cache->layers.size() == info_.n_layers, "[{} backward] not this model's cache",
                 arch_name(info_.arch));
    const int64_t M = cache->h_final.shape()[0], V = info_.n_vocab;
    check_logits_view(ctx, dlogits, cache->batch, M / cache->batch, V, {.all_logits = true}, "[backward] dlogits");
    const bool tied = w_.output.data == nullptr;
    const LmHeadWeights head{w_.output_norm, tied ? w_.token_embd : w_.output, (float)c_.norm_eps};
    ResidualGrad g({M, info_.d_model});
    lm_head_backward(ctx, g.dh, grad_of(grads, "output_norm.weight"),
                     grad_of(grads, tied ? "token_embd.weight" : "output.weight"), dlogits.reshape({M, V}),
                     cache->h_final, cache->hn, head);
    for (int64_t l = info_.n_layers - 1; l >= 0; --l) block_backward(ctx, l, cache->layers[l], cache->batch, g, grads);
    ops::embedding_backward(ctx, grad_of(grads, "token_embd.weight"), g.dh, cache->tokens);
  }

  // Layer l alone from fresh states, in the training form, on h_in (B·T, D) -> h_out (B·T, D).
  std::unique_ptr<ForwardCache> layer_forward(ops::Context& ctx, int64_t l, const core::TensorView& h_in, int64_t batch,
                                              const core::TensorView& h_out) const override {
    check_layer_io(ctx, "layer_forward", l, h_in, batch, h_out);
    auto cache = std::make_unique<OneLayerCache>();
    cache->layer = l;
    cache->batch = batch;
    FreshStates fresh(*this, batch);
    const RecurrentStates rs = as_recurrent(fresh.ptrs, info_.n_layers, arch_name(info_.arch));
    ops::Scratch scratch(ctx);
    ResidualStream s(scratch, h_in.shape, /*keep_h=*/false);
    ops::copy(ctx, s.h, h_in);
    block_forward(ctx, l, s, batch, rs, {}, train_form(), c_.chunk_size, &cache->acts);
    ops::copy(ctx, h_out, s.h);
    return cache;
  }

  void layer_backward(ops::Context& ctx, ForwardCache& base, const core::TensorView& dh_out,
                      const core::TensorView& dh_in, GradientMap& grads) const override {
    auto* cache = dynamic_cast<OneLayerCache*>(&base);
    LLAMBA_ENSURE(cache, "[{} layer_backward] the cache is not from this model's layer_forward", arch_name(info_.arch));
    check_layer_io(ctx, "layer_backward", cache->layer, dh_out, cache->batch, dh_in);
    ResidualGrad g(dh_out.shape);
    std::memcpy(g.dh.f32(), dh_out.f32(), dh_out.numel() * sizeof(float));
    block_backward(ctx, cache->layer, cache->acts, cache->batch, g, grads);
    float* out = dh_in.f32();
    const float* in = g.dh.f32();
    for (int64_t i = 0; i < dh_in.numel(); ++i) out[i] += in[i];
  }

 protected:
  // Throws llamba::Error unless l is a layer and a, b are contiguous f32 (B·T, D) on the context's device.
  void check_layer_io(const ops::Context& ctx, const char* op, int64_t l, const core::TensorView& a, int64_t batch,
                      const core::TensorView& b) const {
    const std::string_view name = arch_name(info_.arch);
    LLAMBA_ENSURE(l >= 0 && l < info_.n_layers, "[{} {}] layer {} of {}", name, op, l, info_.n_layers);
    for (const core::TensorView* v : {&a, &b})
      LLAMBA_ENSURE(v->rank() == 2 && v->size(1) == info_.d_model && batch > 0 && v->size(0) % batch == 0 &&
                        v->shape == a.shape && v->dtype == core::DType::kF32 && v->is_contiguous() &&
                        v->device == ctx.device(),
                    "[{} {}] hidden states must be contiguous f32 (B·T, {}) with batch {}, got {} and {}", name, op,
                    info_.d_model, batch, a.shape.str(), b.shape.str());
  }

  // Reads (and checks) the config and weights of an `arch` file; the model name defaults to the architecture's.
  RecurrentLanguageModel(const io::GgufFile& f, Arch arch) : c_(Config::from_gguf(f)), w_(Weights::from_gguf(f, c_)) {
    info_.arch = arch;
    info_.name = f.get_string("general.name", std::string(arch_name(arch)));
    info_.n_vocab = c_.n_vocab;
    info_.d_model = c_.d_model;
    info_.n_layers = c_.n_layers;
    info_.recurrent = true;
  }

  // Layer l on the residual stream s.h, updated in place, continuing and updating each row's state; with `acts`,
  // the layer's activations are kept there. Taps ("hidden", l) first, then the model's own.
  virtual void block_forward(ops::Context& ctx, int64_t l, ResidualStream& s, int64_t batch,
                             std::span<RecurrentState* const> states, const ForwardOptions& opts, Form form,
                             int64_t chunk, LayerActs* acts) const = 0;
  // The training backward of layer l: g.dh holds ∂L/∂(the layer's output) and is left holding ∂L/∂(its input);
  // parameter gradients accumulate into `grads`.
  virtual void block_backward(ops::Context& ctx, int64_t l, const LayerActs& acts, int64_t batch, ResidualGrad& g,
                              GradientMap& grads) const = 0;
  virtual Form decode_form() const { return Form::kRecurrent; }
  virtual Form train_form() const { return Form::kChunked; }

  // Immutable after loading; the weights are views into the file's mapping.
  Config c_;
  Weights w_;

 private:
  // The one forward over tokens (B, T): continues and updates each row's state; with `cache`, keeps there what
  // the backward needs.
  void run(ops::Context& ctx, std::span<const int32_t> tokens, int64_t batch, std::span<SequenceState* const> states,
           const core::TensorView& logits, const ForwardOptions& opts, Form form, int64_t chunk, Cache* cache) const {
    const std::string_view name = arch_name(info_.arch);
    LLAMBA_CHECK(batch > 0 && (int64_t)tokens.size() % batch == 0 && (int64_t)states.size() == batch,
                 "[{} forward] {} tokens, batch {}, {} states", name, tokens.size(), batch, states.size());
    const int64_t T = (int64_t)tokens.size() / batch, M = batch * T, L = info_.n_layers;
    if (T == 0) return;
    check_logits_view(ctx, logits, batch, T, info_.n_vocab, opts);
    const RecurrentStates rs = as_recurrent(states, L, name);
    ops::Scratch scratch(ctx);
    ResidualStream s(scratch, {M, info_.d_model}, /*keep_h=*/cache != nullptr);  // fp32: mamba_ssm's residual_in_fp32
    ops::embedding_forward(ctx, s.h, w_.token_embd, tokens);
    if (cache) {
      cache->tokens.assign(tokens.begin(), tokens.end());
      cache->batch = batch;
      cache->layers.resize(L);
    }
    for (int64_t l = 0; l < L; ++l)
      block_forward(ctx, l, s, batch, rs, opts, form, chunk, cache ? &cache->layers[l] : nullptr);
    if (opts.observer) (*opts.observer)("hidden", (int)L, s.h);
    for (RecurrentState* r : rs) r->n_past += T;
    if (cache) {
      cache->h_final = s.h_kept;
      cache->hn = core::Tensor::zeros(core::DType::kF32, {M, info_.d_model});
    }
    const LmHeadWeights head{w_.output_norm, w_.output.data ? w_.output : w_.token_embd, (float)c_.norm_eps};
    lm_head_forward(ctx, s.h, batch, head, logits, opts, cache ? cache->hn.view() : core::TensorView{});
  }

  ModelInfo info_;
  std::vector<core::Tensor> placed_;  // device copies of the weights (place_weights)
  core::Device device_ = core::Device::kCpu;
};

}  // namespace llamba::models
