// Token sampling: repetition penalty, top-k, top-p, min-p, temperature, then a seeded draw (llama.cpp's
// default order). Temperature 0 means greedy (argmax after penalties). Not thread-safe (owns an Rng).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/rng.h"

namespace llamba::runtime {

struct SamplerParams {
  float temperature = 0.8f;
  int32_t top_k = 40;           // <= 0: disabled
  float top_p = 0.95f;          // >= 1: disabled
  float min_p = 0.05f;          // <= 0: disabled
  float repeat_penalty = 1.0f;  // 1: disabled; logits of recent tokens: l > 0 ? l / p : l * p
  float presence_penalty = 0;   // OpenAI / llama.cpp: l -= presence for a token seen in the window
  float frequency_penalty = 0;  // l -= frequency × its count in the window
  int32_t repeat_last_n = 64;   // how many recent tokens the penalties look at (< 0: all)
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplerParams& p);
  // Picks the next token from `logits` (V); `history` are the tokens so far (for the repetition penalty).
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);
  const SamplerParams& params() const { return p_; }

 private:
  SamplerParams p_;
  core::Rng rng_;
  std::vector<std::pair<float, int32_t>> cand_;
};

}  // namespace llamba::runtime
