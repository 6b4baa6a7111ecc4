// Zero-shot benchmarks scored by log-likelihood, as lm-evaluation-harness scores them:
//   LAMBADA (OpenAI's jsonl, `lambada_openai`): context = the text before its last space, target = " " + the last
//     word; tokens of the target = tokens(context + target) after the tokens of context. Right when every target
//     token is the greedy argmax. Perplexity = exp(−mean over passages of the target's summed log-probability)
//     (per word, lm-eval's), and per target token.
//   BLiMP (67 paradigms of 1,000 minimal pairs, .jsonl or .jsonl.xz): each sentence scored whole after a prefix
//     token (BOS, or EOS for a model without one, as lm-eval's prefix token); right when the good sentence's
//     summed log-probability exceeds the bad one's. Accuracy per paradigm (UID), per phenomenon
//     (`linguistics_term`), and over all pairs.
// Both throw llamba::Error naming the file and line for malformed input.
#pragma once

#include <string>
#include <vector>

#include "ops/context.h"
#include "models/model.h"
#include "tokenizer/tokenizer.h"

namespace llamba::eval {

struct TaskOptions {
  int64_t batch = 16;  // sequences per forward
  int64_t limit = -1;  // LAMBADA: first N passages; BLiMP: first N pairs of each paradigm; < 0: all
  bool progress = true;
};

struct LambadaResult {
  int64_t n = 0, correct = 0, target_tokens = 0;
  double sum_logprob = 0;  // over all targets
  double accuracy() const { return n ? (double)correct / (double)n : 0; }
  double accuracy_error() const;  // binomial standard error
  double ppl_word() const;        // exp(−Σ logprob / n)
  double ppl_token() const;       // exp(−Σ logprob / target tokens)
  double forward_seconds = 0;
  int64_t tokens_run = 0;
};

// `jsonl` is the file's contents (one {"text": ...} per line); `name` names it in errors.
LambadaResult evaluate_lambada(ops::Context& ctx, const models::Model& model, const tokenizer::Tokenizer& tok,
                               const std::string& jsonl, const std::string& name, const TaskOptions& opts);

struct BlimpCount {
  std::string name;  // paradigm UID or phenomenon
  int64_t n = 0, correct = 0;
  double accuracy() const { return n ? (double)correct / (double)n : 0; }
};

struct BlimpResult {
  std::vector<BlimpCount> paradigms;   // in file-name order
  std::vector<BlimpCount> phenomena;   // by linguistics_term, sorted
  BlimpCount overall{"overall"};
  double forward_seconds = 0;
  int64_t tokens_run = 0;
};

// Every *.jsonl / *.jsonl.xz file in `dir`, sorted by name.
BlimpResult evaluate_blimp(ops::Context& ctx, const models::Model& model, const tokenizer::Tokenizer& tok,
                           const std::string& dir, const TaskOptions& opts);

}  // namespace llamba::eval
