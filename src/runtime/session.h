// A Session runs one sequence through a model: prefill, decode, logits, snapshot/restore, fork, and state
// save/load to disk. It owns the sequence's state (RecurrentState or KvCache) and its token history.
// Thread safety: one thread per Session; several Sessions may share a Model and (sequentially) a ThreadPool.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "models/model.h"

namespace llamba::runtime {

// A full copy of a session's state at one point (cost: the state's bytes(), constant for recurrent models).
struct Snapshot {
  std::unique_ptr<models::SequenceState> state;
  std::vector<int32_t> tokens;
  std::vector<float> logits;
};

class Session {
 public:
  Session(const models::Model& model, ops::Context& ctx);

  // Feeds `tokens` after those already consumed; logits() then holds the next-token logits.
  void prefill(std::span<const int32_t> tokens);
  void decode(int32_t token) { prefill({&token, 1}); }
  std::span<const float> logits() const { return logits_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  int64_t n_past() const { return state_->n_past; }
  int64_t state_bytes() const { return state_->bytes(); }
  const models::Model& model() const { return model_; }
  void reset();

  Snapshot snapshot() const;
  void restore(const Snapshot& s);
  Session fork() const;  // an independent session continuing from here

  // Saves / loads the sequence (state tensors, tokens, logits) as a GGUF file; load checks the model matches.
  // `notes` are application strings stored beside the state (e.g. the chat history) and returned by load.
  void save_state(const std::string& path, const std::map<std::string, std::string>& notes = {}) const;
  std::map<std::string, std::string> load_state(const std::string& path);

 private:
  const models::Model& model_;
  ops::Context& ctx_;
  std::unique_ptr<models::SequenceState> state_;
  std::vector<int32_t> tokens_;
  std::vector<float> logits_;
};

}  // namespace llamba::runtime
