// Llamba: Llama blocks with attention replaced by the Discrete Mamba-2 mixer (docs/models.md §"Llamba"). Config,
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
  RecurrentStateShape state_shape() const {  // conv (K-1, Cc), SSM (H, P, N) per layer
    return {n_layers, conv_kernel - 1, conv_channels(), n_heads, head_dim, d_state};
  }
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

// Config and weights, the entry points, the embedding, the head and the state come from RecurrentLanguageModel;
// the layers from block_forward (forward.cpp) and block_backward (backward.cpp).
class LlambaModel final : public RecurrentLanguageModel<Config, Weights, LayerActs, MixerForm> {
 public:
  explicit LlambaModel(const io::GgufFile& f) : RecurrentLanguageModel(f, Arch::kLlamba) {}

  // Mixer of layer l on normalized input u (B·T, D) -> out (B·T, D), continuing and updating each row's state.
  void mixer_forward(ops::Context& ctx, int64_t l, const core::TensorView& u, int64_t batch,
                     std::span<RecurrentState* const> states, const core::TensorView& out, MixerForm form,
                     int64_t chunk, MixerActs* keep = nullptr) const;
  // The materialized mixer matrix (H, T, T) of layer l for one fresh sequence with normalized input u (T, D).
  void mixer_matrix(ops::Context& ctx, int64_t l, const core::TensorView& u, const core::TensorView& m) const;
  // MOHAWK stage 1 (mixer_matrix.cpp): m (B, H, T, T) from the hidden state h_in (B·T, D) through attn_norm, and
  // the backward into dh_in and the B, C, a rows of in_proj, the conv, D and attn_norm.
  std::unique_ptr<ForwardCache> mixer_matrix_forward(ops::Context& ctx, int64_t l, const core::TensorView& h_in,
                                                     int64_t batch, const core::TensorView& m) const override;
  void mixer_matrix_backward(ops::Context& ctx, ForwardCache& cache, const core::TensorView& dm,
                             const core::TensorView& dh_in, GradientMap& grads) const override;

 private:
  void block_forward(ops::Context& ctx, int64_t l, ResidualStream& s, int64_t batch,
                     std::span<RecurrentState* const> states, const ForwardOptions& opts, MixerForm form,
                     int64_t chunk, LayerActs* acts) const override;
  void block_backward(ops::Context& ctx, int64_t l, const LayerActs& a, int64_t batch, ResidualGrad& g,
                      GradientMap& grads) const override;
  // Backward of layer l's mixer: dh_mid (M, D) flows in; dh_in (M, D) += the gradient through u1.
  void mixer_backward(ops::Context& ctx, int64_t l, const LayerActs& a, int64_t batch,
                      const core::TensorView& dout, const core::TensorView& du1, GradientMap& grads) const;
};

}  // namespace llamba::models::llamba
