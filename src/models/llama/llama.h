// Llama (the teacher; SmolLM2, Llama-3.x): config, weights and the Model implementation.
// GGUF layout is llama.cpp's `llama` architecture: Q/K rows permuted for interleaved RoPE, optional
// `rope_freqs.weight` (llama3 frequency scaling factors), `output.weight` absent when tied.
#pragma once

#include <vector>

#include "models/blocks/lm_head.h"
#include "models/blocks/mlp.h"
#include "models/model.h"

namespace llamba::models::llama {

struct Config {
  int64_t n_vocab = 0, d_model = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0, ffn_dim = 0;
  int64_t context_length = 0, rope_dim = 0;
  double rms_eps = 1e-5, rope_base = 10000.0;

  static Config from_gguf(const io::GgufFile& f);
};

struct LayerWeights {
  core::TensorView attn_norm;           // (D)
  core::TensorView wq, wk, wv, wo;      // (Hq·hd, D), (Hkv·hd, D), (Hkv·hd, D), (D, Hq·hd)
  core::TensorView ffn_norm;            // (D)
  MlpWeights mlp;
};

struct Weights {
  core::TensorView token_embd;   // (V, D)
  std::vector<LayerWeights> layers;
  core::TensorView output_norm;  // (D)
  core::TensorView output;       // (V, D); null when tied
  core::TensorView rope_freqs;   // (rope_dim / 2) f32; null when absent

  static Weights from_gguf(const io::GgufFile& f, const Config& c);
  void for_each(const TensorVisitor& visit) const;
};

class LlamaModel final : public Model {
 public:
  explicit LlamaModel(const io::GgufFile& f);
  const ModelInfo& info() const override { return info_; }
  std::unique_ptr<SequenceState> new_state() const override;
  int64_t state_bytes(int64_t n_tokens) const override;
  void forward(ops::Context& ctx, std::span<const int32_t> tokens, int64_t batch,
               std::span<SequenceState* const> states, const core::TensorView& logits,
               const ForwardOptions& opts) const override;
  void for_each_tensor(const TensorVisitor& visit) const override { w_.for_each(visit); }
  const Config& config() const { return c_; }

  // One layer over the tokens of one batch row h (T, D), attending over `cache`; optionally keeps the attention
  // probabilities (Hq, T, n_past + T) and the attention output before its residual add (T, D) (teacher taps).
  void block_forward(ops::Context& ctx, int64_t l, const core::TensorView& h, KvCache& cache,
                     std::span<const int64_t> positions, const core::TensorView& attn_probs,
                     const core::TensorView& attn_out = {}) const;

 private:
  Config c_;
  Weights w_;
  ModelInfo info_;
  std::vector<float> inv_freq_;
};

}  // namespace llamba::models::llama
