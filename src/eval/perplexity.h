// Perplexity exactly as llama.cpp's `llama-perplexity` computes it (tools/perplexity/perplexity.cpp, vendored by
// llama-cpp-python 0.3.36), so the two can be put side by side on one GGUF and text:
//   - the whole text is tokenized once (one trailing newline dropped, as `-f` reads it; BOS first when the
//     tokenizer adds BOS; special tokens not parsed), then cut into ⌊N / ctx⌋ chunks of ctx tokens;
//   - each chunk runs from a fresh state, its first token replaced by BOS when the model adds BOS;
//   - only the second half is scored: positions ctx/2 … ctx − 2 predicting the next token (ctx − ctx/2 − 1 per
//     chunk); PPL = exp(mean NLL), its error = PPL · sqrt(var(NLL) / (count − 1)).
// With a base model (`--kl-base`), both run side by side on the same chunks: KL(base ‖ model) per token, top-1
// agreement, the base's PPL and the ratio/difference with llama.cpp's uncertainty formulas. Unlike
// llama-perplexity's `--kl-divergence`, the base's log-probabilities are exact (no 16-bit logits file).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ops/context.h"
#include "models/model.h"
#include "tokenizer/tokenizer.h"

namespace llamba::eval {

struct ValueError {
  double value = 0, error = 0;
};

struct KlStats {
  ValueError mean_kl, same_top, ppl_base, log_ppl_ratio, ppl_diff, rms_dp;
  double median_kl = 0, p90_kl = 0, p99_kl = 0, p999_kl = 0, max_kl = 0;
  double cor_log_ppl = 0;  // correlation of ln PPL(model) and ln PPL(base)
};

struct PerplexityOptions {
  int64_t ctx = 512;
  int64_t chunks = -1;  // < 0: all
  int64_t batch = 4;    // chunks per forward
  bool progress = true;
};

struct PerplexityResult {
  int64_t n_text_tokens = 0, n_chunks = 0, ctx = 0, count = 0;  // count: scored tokens
  bool add_bos = false;
  std::vector<double> running;  // PPL after each chunk
  ValueError ppl;
  std::optional<KlStats> kl;
  double forward_seconds = 0;
  double tokens_per_second() const { return forward_seconds > 0 ? n_chunks * ctx / forward_seconds : 0; }
};

// `text` is the file's contents. Throws llamba::Error when the text is shorter than two chunks (as llama.cpp
// refuses) or a flag is out of range.
// KL to a base model compares distributions over the same ids: throws llamba::Error naming `base_name` unless
// `a` and `b` have the same vocabulary, id by id.
void require_same_tokenizer(const tokenizer::Tokenizer& a, const tokenizer::Tokenizer& b,
                            const std::string& base_name);

PerplexityResult evaluate_perplexity(ops::Context& ctx, const models::Model& model,
                                     const tokenizer::Tokenizer& tok, std::string text, const PerplexityOptions& opts,
                                     const models::Model* base = nullptr);

}  // namespace llamba::eval
