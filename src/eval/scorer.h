// Scores token sequences with a model: for chosen positions, the log-probability of the next token, whether it is
// the model's argmax, and, beside a base model, KL(base ‖ model) and top-1 agreement. Sequences run through the
// model's batched forward many at a time (sorted by length, right-padded: causal models never look right, so
// padding changes no scored position), memory bounded by a logits budget. Shared by perplexity, LAMBADA and BLiMP.
// Not thread-safe: one scorer per thread (it uses the context it is given).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ops/context.h"
#include "models/model.h"

namespace llamba::eval {

// Positions p in [first, tokens.size() − 1) are scored: the model's prediction at p for tokens[p + 1].
struct Sequence {
  std::vector<int32_t> tokens;
  int64_t first = 0;
};

// One entry per scored position, in order.
struct SequenceScores {
  std::vector<double> logprob;
  std::vector<uint8_t> greedy;  // the target is the argmax
  // With a base model:
  std::vector<double> base_logprob, kl;
  std::vector<uint8_t> same_top;  // base and model have the same argmax
  double sum_logprob() const;
  bool all_greedy() const;
};

struct ScorerOptions {
  int64_t batch = 8;                     // sequences per forward, at most
  int64_t logits_budget = int64_t{2} << 30;  // bytes of logits held at once (both models)
  bool progress = true;                  // a bar on stderr
  std::string label = "eval";
  std::function<std::string()> status;   // extra text for the bar after each batch (e.g. the running value)
};

class Scorer {
 public:
  // `base` may be null; it must share the model's vocabulary size (checked).
  Scorer(ops::Context& ctx, const models::Model& model, const models::Model* base, ScorerOptions opts);

  // Scores every sequence; `done(i, scores)` is called as sequence i finishes (equal-length sequences finish in
  // input order). Throws llamba::Error for a token outside the vocabulary or a sequence with nothing to score.
  std::vector<SequenceScores> score(const std::vector<Sequence>& seqs,
                                    const std::function<void(size_t, const SequenceScores&)>& done = {});

  double forward_seconds() const { return forward_s_; }  // in the models' forwards (both, with a base)
  int64_t tokens_run() const { return tokens_; }          // tokens fed to the model, padding included

 private:
  ops::Context& ctx_;
  const models::Model& model_;
  const models::Model* base_;
  ScorerOptions opts_;
  std::vector<float> logits_, base_logits_;
  double forward_s_ = 0;
  int64_t tokens_ = 0;
};

}  // namespace llamba::eval
