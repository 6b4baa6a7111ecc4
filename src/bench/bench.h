// `llamba bench`'s engine: llama-bench's test matrix for any model — prefill of P tokens and decode of N tokens,
// each after a depth of D tokens already in the state, for S sequences at once and a thread count — timing only
// the model's forwards (no tokenizer, no sampling, no printing), with random token ids as llama-bench uses.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/model.h"

namespace llamba::bench {

struct Spec {
  std::vector<int64_t> prefill{512};  // -p: prompt sizes (0 entries: no prefill tests)
  std::vector<int64_t> decode{128};   // -n: generation lengths
  std::vector<int64_t> depths{0};     // -d: tokens in the state before the timed part
  std::vector<int64_t> seqs{1};       // -b: sequences advanced together in one batched forward
  std::vector<int> threads{0};        // -t: 0 = every core
  int reps = 3;                       // -r: timed repetitions after one untimed warm-up
};

enum class Kind { kPrefill, kDecode };

struct Result {
  Kind kind = Kind::kPrefill;
  int64_t n = 0, depth = 0, seqs = 1;  // n: prompt size or generation length
  int threads = 0;                     // as run (0 resolved to the core count)
  std::vector<double> seconds;         // per timed repetition
  int64_t state_bytes = 0;             // every sequence's state at the end (KV caches grow, recurrent states don't)
  int64_t tokens() const { return n * seqs; }
  double tokens_per_s_mean() const;
  double tokens_per_s_stddev() const;
  std::string test() const;  // "pp512", "tg128", with "@ d4096" for a depth
};

// What the roofline columns need: the bytes of every weight (a decode step reads each once) and the matrix
// parameters applied per token (`body`, 2 FLOPs each) and per row's last position (`head`: the logits).
// Attention's own T² work is not counted: the FLOP/s are a lower bound for Llama at depth.
struct ModelCost {
  int64_t weight_bytes = 0, params = 0, body = 0, head = 0;
  double flops(const Result& r) const;  // of one repetition
  double bytes(const Result& r) const;  // weights per forward (plus each sequence's state read and written)
};
ModelCost model_cost(const models::Model& model);

// Throws llamba::Error for an empty matrix, a non-positive size or repetition count, or a negative depth.
void validate(const Spec& spec);

using Progress = std::function<void(size_t done, size_t total, const Result& last)>;

// Runs every (threads, seqs, depth, prefill | decode) combination in that nesting order.
std::vector<Result> run(const models::Model& model, const Spec& spec, uint64_t seed, const Progress& progress = {});

}  // namespace llamba::bench
