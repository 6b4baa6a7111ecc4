// What a command will need in memory, estimated before it allocates, and the refusal when that exceeds its
// limit (runtime/memory_limit.h): the CLI's run, chat, bench, eval and serve, and the server per request.
// The estimate is an upper bound made of
//   weights  the bytes of every tensor a forward reads in full: GGUF weights are mapped, so these are the file's
//            pages once they are read; an untied token embedding is read only at the rows of the tokens fed;
//   states   each sequence's recurrent state (constant) or KV cache at the capacity it will have grown to
//            (KvCache doubles from 64 rows), plus the smaller buffers its growth freed that the allocator's block
//            cache keeps (core/buffer.cpp: blocks of 1 MiB and more, 2 GiB in all);
//   scratch  the forward's temporaries (a bound per token from the model's widest layer), the logits held, and
//            a fixed allowance (kFixedScratch) for the tokenizer, the threads and the allocator.
// tests/runtime/test_memory_budget.cpp checks it against what forwards allocate and what processes use.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "models/model.h"
#include "runtime/memory_limit.h"

namespace llamba::runtime {

// Tokenizer tables, thread stacks and per-thread buffers, the allocator's slack: measured under 40 MiB for the
// default model's process beside its weights, states and temporaries.
constexpr int64_t kFixedScratch = int64_t(64) << 20;

// What one model does at its peak in a command.
struct Workload {
  int64_t sequences = 1;       // states alive at once
  int64_t tokens = 0;          // tokens each state holds at most (KV caches; a recurrent state does not grow)
  int64_t rows = 1;            // rows of the largest forward
  int64_t row_tokens = 1;      // tokens per row in it
  int64_t logits_rows = 1;     // rows of logits held (B for the last position only, B·T with every position)
  int64_t tokens_fed = -1;     // distinct tokens the embedding may be read at (< 0: any, the whole table)
};

struct MemoryNeed {
  int64_t weights = 0, states = 0, state_growth = 0, scratch = 0, logits = 0, fixed = kFixedScratch;
  int64_t extra = 0;          // a named addition, e.g. the server's state cache
  std::string extra_what;
  bool kv_cache = false;      // the states are KV caches
  std::string states_what;    // "4 sequences of 8,192 tokens"
  int64_t total() const { return weights + states + state_growth + scratch + logits + fixed + extra; }
  // What is known to be needed: all of it but the fixed allowance.
  int64_t known() const { return total() - fixed; }
  // "weights 92.1 MiB + KV cache 1.50 GiB (4 sequences of 8,192 tokens, 0.70 GiB of it growth) + scratch
  // 70.0 MiB (temporaries 3.1 MiB, logits 2.9 MiB, 64 MiB allowance)".
  std::string breakdown() const;
  MemoryNeed& operator+=(const MemoryNeed& o);  // a second model beside the first (eval --kl-base)
};

MemoryNeed estimate_memory(const models::Model& model, const Workload& w);

// `llamba run`: one sequence holding `past` tokens (a loaded state) that prefills `prompt` tokens in one forward,
// then generates up to `max_tokens` (< 0: until the model's context ends; a model without one is counted at what
// it holds after the prompt).
Workload generation_workload(const models::Model& model, int64_t past, int64_t prompt, int64_t max_tokens);

// Bytes one sequence's state takes after `tokens` tokens (at its grown capacity), and what its growth leaves
// cached; recurrent models: the constant state, no growth.
int64_t sequence_state_bytes(const models::Model& model, int64_t tokens);
int64_t sequence_growth_bytes(const models::Model& model, int64_t tokens);

// Throws llamba::Error "<command> needs X of memory: <breakdown>; <limit source> allows Y" with `hint` as its
// ---> HINT line, when the need exceeds the limit. With --max-memory the whole estimate must fit; against the
// machine's available memory only what is known to be needed (not the fixed allowance), so that a command is
// refused there only when it clearly cannot fit. A limit of 0 (unknown machine) refuses nothing.
void require_fits(const MemoryNeed& need, const MemoryLimit& limit, const std::string& command,
                  const std::string& hint);

}  // namespace llamba::runtime
