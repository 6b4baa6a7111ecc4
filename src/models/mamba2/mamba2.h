// Mamba-2 (llamba.md §10): a pure stack of pre-norm residual Mamba-2 mixers (no MLP), in the layout of
// transformers' Mamba2ForCausalLM / mamba_ssm's Mamba2. Config, weights, the Model implementation and the mixer
// forms (chunked SSD from any state, recurrent step, quadratic). GGUF keys: docs/gguf-keys.md (`mamba2`).
#pragma once

#include <limits>
#include <vector>

#include "models/blocks/lm_head.h"
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
  static Config from_gguf(const io::GgufFile& f);
};

struct LayerWeights {
  core::TensorView attn_norm;           // (D)
  core::TensorView in_proj, in_bias;    // (R, D), (R) optional; rows [z0 | x0 | z | xBC | dt]
  core::TensorView conv_w, conv_b;      // (Cc, K), (Cc) optional
  core::TensorView dt_bias;             // (H)
  core::TensorView a;                   // (H) = −exp(A_log), folded at conversion
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

// How the mixer computes the sequence: all forms give the same result (tested).
enum class MixerForm { kChunked, kRecurrent, kQuadratic };

class Mamba2Model final : public Model {
 public:
  explicit Mamba2Model(const io::GgufFile& f);
  const ModelInfo& info() const override { return info_; }
  std::unique_ptr<SequenceState> new_state() const override;
  int64_t state_bytes(int64_t n_tokens) const override;
  void forward(core::ThreadPool& pool, std::span<const int32_t> tokens, int64_t batch,
               std::span<SequenceState* const> states, float* logits, const ForwardOptions& opts) const override;
  void for_each_tensor(const TensorVisitor& visit) const override { w_.for_each(visit); }
  const Config& config() const { return c_; }

  // forward() with an explicit mixer form and chunk length (mode-equivalence tests, benchmarks).
  void forward_with(core::ThreadPool& pool, std::span<const int32_t> tokens, int64_t batch,
                    std::span<SequenceState* const> states, float* logits, const ForwardOptions& opts, MixerForm form,
                    int64_t chunk) const;

  // Mixer of layer l on normalized input u (B·T, D) -> out (B·T, D), continuing and updating each row's state.
  // Taps ("mixer_y", l) = scan output + D·x and ("mixer_gated", l) = after the gated norm, both (B·T, d_inner).
  void mixer_forward(core::ThreadPool& pool, int64_t l, const core::TensorView& u, int64_t batch,
                     std::span<RecurrentState* const> states, const core::TensorView& out, MixerForm form,
                     int64_t chunk, const Observer* observer = nullptr) const;

 private:
  Config c_;
  Weights w_;
  ModelInfo info_;
};

}  // namespace llamba::models::mamba2
