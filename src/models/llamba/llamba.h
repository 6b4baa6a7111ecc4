// Llamba: Llama blocks with attention replaced by the Discrete Mamba-2 mixer (llamba.md §3–§5). Config,
// weights, the Model implementation and the three mixer forms (chunked SSD from any state, recurrent step,
// materialized matrix). GGUF keys are documented in docs/gguf-keys.md.
#pragma once

#include <vector>

#include "models/blocks/lm_head.h"
#include "models/blocks/mlp.h"
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

// How the mixer computes the sequence: all forms give the same result (tested).
enum class MixerForm { kChunked, kRecurrent, kQuadratic };

class LlambaModel final : public Model {
 public:
  explicit LlambaModel(const io::GgufFile& f);
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
  void mixer_forward(core::ThreadPool& pool, int64_t l, const core::TensorView& u, int64_t batch,
                     std::span<RecurrentState* const> states, const core::TensorView& out, MixerForm form,
                     int64_t chunk) const;
  // The materialized mixer matrix (H, T, T) of layer l for one fresh sequence with normalized input u (T, D).
  void mixer_matrix(core::ThreadPool& pool, int64_t l, const core::TensorView& u, const core::TensorView& m) const;

 private:
  Config c_;
  Weights w_;
  ModelInfo info_;
};

}  // namespace llamba::models::llamba
