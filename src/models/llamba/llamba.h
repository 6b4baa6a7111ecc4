// Llamba: Llama blocks with attention replaced by the Discrete Mamba-2 mixer (llamba.md §3–§5). Config,
// weights, the Model implementation and the three mixer forms (chunked SSD from any state, recurrent step,
// materialized matrix). GGUF keys are documented in docs/gguf-keys.md.
#pragma once

#include <nlohmann/json.hpp>

#include <vector>

#include "models/blocks/lm_head.h"
#include "models/blocks/mlp.h"
#include "models/blocks/recurrent_lm.h"
#include "models/blocks/ssm_common.h"
#include "models/model.h"
#include "ops/conv1d_causal.h"

namespace llamba::models::llamba {

struct Config {
  int64_t n_vocab = 0, d_model = 0, n_layers = 0, ffn_dim = 0;
  int64_t d_inner = 0, n_heads = 0, n_groups = 0, d_state = 0, head_dim = 0, conv_kernel = 4;
  int64_t chunk_size = 128;  // prefill chunk: a speed knob, any value gives the same result
  double norm_eps = 1e-5;    // final norm; block norms use block_eps
  double block_eps = 1e-5;
  ops::ConvActivation conv_activation = ops::ConvActivation::kIdentity;

  int64_t conv_channels() const { return d_inner + 2 * n_groups * d_state; }                 // Cc
  int64_t in_proj_rows() const { return 2 * d_inner + 2 * n_groups * d_state + n_heads; }    // [x|B|C|z|a]
  static Config from_gguf(const io::GgufFile& f);
};

struct LayerWeights {
  core::TensorView attn_norm;             // (D)
  core::TensorView in_proj;               // (2·d_inner + 2·G·N + H, D), rows [x | B | C | z | a]
  core::TensorView conv_w, conv_b;        // (Cc, K), (Cc)
  core::TensorView z_bias;                // (d_inner)
  core::TensorView d;                     // (H)
  core::TensorView out_proj;              // (D, d_inner)
  core::TensorView ffn_norm;              // (D)
  MlpWeights mlp;
};

struct Weights {
  core::TensorView token_embd;   // (V, D)
  std::vector<LayerWeights> layers;
  core::TensorView output_norm;  // (D)
  core::TensorView output;       // (V, D); null when tied

  static Weights from_gguf(const io::GgufFile& f, const Config& c);
  void for_each(const TensorVisitor& visit) const;
};

// A randomly initialized model for training (init.cpp documents the scheme); writes keys and tensors.
void write_init(const nlohmann::json& cfg, int64_t n_vocab, uint64_t seed, io::GgufWriter& w);

using models::MixerForm;  // models/blocks/ssm_common.h

// Activations a training forward keeps for the backward (M = B·T rows).
struct MixerActs {
  core::Tensor proj;           // (M, R) in_proj output [x|B|C|z|a]
  core::Tensor xbc;            // (M, Cc) after the conv
  core::Tensor x, k, q, ld;    // (B, T, H, P), (B, T, G, N) ×2, (B, T, H): the recurrence inputs
  core::Tensor y_pre;          // (M, d_inner) recurrence output + D·x, before the gate
  core::Tensor y2;             // (M, d_inner) gated, the out_proj input
};
struct LayerActs {
  core::Tensor h_in, u1, h_mid, u2;  // (M, D): residual in, normed, residual after the mixer, normed
  MixerActs mix;
  MlpActs mlp;
};
using LlambaCache = TrainingCache<LayerActs>;

// forward, forward_with, forward_train and the embedding and head come from RecurrentLanguageModel; the layers
// from layers_forward (forward.cpp).
class LlambaModel final : public RecurrentLanguageModel<MixerForm, LayerActs> {
 public:
  explicit LlambaModel(const io::GgufFile& f);
  std::unique_ptr<SequenceState> new_state() const override;
  int64_t state_bytes(int64_t n_tokens) const override;
  void for_each_tensor(const TensorVisitor& visit) const override { w_.for_each(visit); }
  const Config& config() const { return c_; }
  void backward(core::ThreadPool& pool, ForwardCache& cache, const float* dlogits,
                GradientMap& grads) const override;

  // Mixer of layer l on normalized input u (B·T, D) -> out (B·T, D), continuing and updating each row's state.
  void mixer_forward(core::ThreadPool& pool, int64_t l, const core::TensorView& u, int64_t batch,
                     std::span<RecurrentState* const> states, const core::TensorView& out, MixerForm form,
                     int64_t chunk, MixerActs* keep = nullptr) const;
  // The materialized mixer matrix (H, T, T) of layer l for one fresh sequence with normalized input u (T, D).
  void mixer_matrix(core::ThreadPool& pool, int64_t l, const core::TensorView& u, const core::TensorView& m) const;

 private:
  void layers_forward(core::ThreadPool& pool, const core::Tensor& h, int64_t batch,
                      std::span<RecurrentState* const> states, const ForwardOptions& opts, MixerForm form,
                      int64_t chunk, LlambaCache* cache) const override;
  core::TensorView token_embedding() const override { return w_.token_embd; }
  LmHeadWeights lm_head() const override {
    return {w_.output_norm, w_.output.data ? w_.output : w_.token_embd, (float)c_.norm_eps};
  }
  int64_t chunk_size() const override { return c_.chunk_size; }
  // Backward of layer l's mixer: dh_mid (M, D) flows in; dh_in (M, D) += the gradient through u1.
  void mixer_backward(core::ThreadPool& pool, int64_t l, const LayerActs& a, int64_t batch,
                      const core::TensorView& dout, const core::TensorView& du1, GradientMap& grads) const;
  Config c_;
  Weights w_;
};

}  // namespace llamba::models::llamba
