// The memory `llamba eval` needs, for --max-memory (runtime/memory_budget.h): the Scorer's largest batch with its
// states and logits, for the model and the --kl-base model.
#pragma once

#include <string>

#include "models/model.h"
#include "runtime/memory_budget.h"

namespace llamba::eval {

// Sequences of at most T tokens, scored from position `scored_from` on: the Scorer (scorer.cpp) batches up to
// `batch` of them while their logits, of both models, fit its logits budget, one at least.
runtime::MemoryNeed scoring_memory_need(const models::Model& model, const models::Model* base, int64_t batch,
                                        int64_t T, int64_t scored_from);

// The longest line of `text` in bytes: a bound on the tokens of any text on it (a byte-level BPE token covers at
// least one byte; JSON escapes only make the line longer).
int64_t longest_line(const std::string& text);
// The same over BLiMP's files (*.jsonl, *.jsonl.xz) in `dir`; 0 when there are none (evaluate_blimp says so).
int64_t longest_line_in(const std::string& dir);

}  // namespace llamba::eval
