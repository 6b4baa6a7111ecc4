// Mamba-2 (docs/models.md §"Mamba-2"): a pure stack of pre-norm residual Mamba-2 mixers (no MLP), in the layout of
// transformers' Mamba2ForCausalLM / mamba_ssm's Mamba2. Config, weights, the Model implementation and the mixer
// forms (chunked SSD from any state, recurrent step, quadratic), and what training keeps (backward.cpp, init.cpp).
// GGUF keys: docs/gguf-keys.md (`mamba2`).
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "models/blocks/lm_head.h"
#include "models/blocks/recurrent_lm.h"
#include "models/blocks/ssm_common.h"
#include "models/model.h"

namespace llamba::models::mamba2 {


struct Config {
  int64_t n_vocab = 0, d_model = 0, n_layers = 0;
  int64_t d_inner = 0;  // SSM channels H·P (mamba_ssm `d_ssm`; llama.cpp `ssm.inner_size`)
  int64_t d_mlp = 0;    // gated-MLP channels beside the SSM (mamba_ssm `d_mlp`; 0 in every released model)
  int64_t n_heads = 0, n_groups = 0, d_state = 0, head_dim = 0, conv_kernel = 4;
  int64_t chunk_size = 256;  // prefill chunk: a speed knob, any value gives the same result
  double norm_eps = 1e-5;    // block norms, the gated norm and the final norm
  float dt_min = 0.0f;       // Δ = clamp(softplus(dt + dt_bias), dt_min, dt_max) (`time_step_limit`)
  float dt_max = std::numeric_limits<float>::infinity();

  int64_t conv_channels() const { return d_inner + 2 * n_groups * d_state; }  // Cc: x, B, C
  // in_proj rows [z0 | x0 | z | xBC | dt] = [d_mlp, d_mlp, d_inner, Cc, H]
  int64_t in_proj_rows() const { return 2 * d_mlp + d_inner + conv_channels() + n_heads; }
  int64_t out_proj_cols() const { return d_mlp + d_inner; }  // [silu(z0)·x0 | normed y]
  RecurrentStateShape state_shape() const {  // conv (K-1, Cc), SSM (H, P, N) per layer
    return {n_layers, conv_kernel - 1, conv_channels(), n_heads, head_dim, d_state};
  }
  static Config from_gguf(const io::GgufFile& f);
};

struct LayerWeights {
  core::TensorView attn_norm;           // (D)
  core::TensorView in_proj, in_bias;    // (R, D), (R) optional; rows [z0 | x0 | z | xBC | dt]
  core::TensorView conv_w, conv_b;      // (Cc, K), (Cc) optional
  core::TensorView dt_bias;             // (H)
  // The decay rate, in exactly one of two forms: `a` (H) = A = −exp(A_log), folded at conversion (llama.cpp's
  // `ssm_a`, inference files), or `a_log` (H) = A_log (`ssm_a_log`, the training form: written by write_init and
  // `convert` with `training`, so the optimizer updates A_log as mamba_ssm does and A stays negative).
  core::TensorView a, a_log;
  float decay_rate(int64_t h) const { return a_log.data ? -std::exp(a_log.f32()[h]) : a.f32()[h]; }  // A_h
  core::TensorView d;                   // (H)
  core::TensorView norm;                // (G, d_inner / G): gated RMSNorm weight, one row per group
  core::TensorView out_proj, out_bias;  // (D, d_mlp + d_inner), (D) optional
};

struct Weights {
  core::TensorView token_embd;   // (V, D)
  std::vector<LayerWeights> layers;
  core::TensorView output_norm;  // (D)
  core::TensorView output;       // (V, D); null when tied

  static Weights from_gguf(const io::GgufFile& f, Config& c);  // sets c.d_mlp from ssm_in's rows
  void for_each(const TensorVisitor& visit) const;
};

// A randomly initialized model for training (init.cpp documents the scheme); writes keys and tensors.
void write_init(const nlohmann::json& cfg, int64_t n_vocab, uint64_t seed, io::GgufWriter& w);

using models::MixerForm;  // models/blocks/ssm_common.h

// Activations a training forward keeps for the backward (M = B·T rows).
struct MixerActs {
  core::Tensor proj;              // (M, R) in_proj output [z0 | x0 | z | xBC | dt]
  core::Tensor x, k, q;           // (B, T, H, P), (B, T, G, N) ×2: x, B, C after the conv
  core::Tensor delta, ld, v;      // (B, T, H) Δ, (B, T, H) log-decay Δ·A, (B, T, H, P) Δ·x: the recurrence inputs
  core::Tensor y_pre;             // (M, d_inner) recurrence output + D·x
  core::Tensor gz;                // (M, d_inner) y_pre ⊙ silu(z), the grouped norm's input
  core::Tensor cat;               // (M, d_mlp + d_inner) the out_proj input
};
struct LayerActs {
  core::Tensor h_in, u;  // (M, D): residual entering the layer, normed
  MixerActs mix;
};
using Mamba2Cache = TrainingCache<LayerActs>;

// Config and weights, the entry points, the embedding, the head and the state come from RecurrentLanguageModel;
// the layers from block_forward (forward.cpp) and block_backward (backward.cpp).
class Mamba2Model final : public RecurrentLanguageModel<Config, Weights, LayerActs, MixerForm> {
 public:
  explicit Mamba2Model(const io::GgufFile& f) : RecurrentLanguageModel(f, Arch::kMamba2) {}

  // Mixer of layer l on normalized input u (B·T, D) -> out (B·T, D), continuing and updating each row's state.
  // Taps ("mixer_y", l) = scan output + D·x and ("mixer_gated", l) = after the gated norm, both (B·T, d_inner).
  // With `keep`, the activations the backward needs are stored there.
  void mixer_forward(ops::Context& ctx, int64_t l, const core::TensorView& u, int64_t batch,
                     std::span<RecurrentState* const> states, const core::TensorView& out, MixerForm form,
                     int64_t chunk, const Observer* observer = nullptr, MixerActs* keep = nullptr) const;

 private:
  void block_forward(ops::Context& ctx, int64_t l, ResidualStream& s, int64_t batch,
                     std::span<RecurrentState* const> states, const ForwardOptions& opts, MixerForm form,
                     int64_t chunk, LayerActs* acts) const override;
  void block_backward(ops::Context& ctx, int64_t l, const LayerActs& a, int64_t batch, ResidualGrad& g,
                      GradientMap& grads) const override;
  // Backward of layer l's mixer from dout (M, D): du (M, D) += the gradient of its normalized input; parameter
  // gradients accumulate into `grads`.
  void mixer_backward(ops::Context& ctx, int64_t l, const LayerActs& a, int64_t batch,
                      const core::TensorView& dout, const core::TensorView& du, GradientMap& grads) const;
};

}  // namespace llamba::models::mamba2
