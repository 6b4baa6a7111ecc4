// OpenAI response bodies: completion / chat completion objects, their streaming chunks, usage and logprobs.
// Thread safety: one Reply per request.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/scheduler.h"
#include "tokenizer/tokenizer.h"

namespace llamba::serve {

// JSON text with ill-formed UTF-8 (a token's raw bytes) replaced by U+FFFD instead of throwing.
std::string dump(const nlohmann::json& j);

nlohmann::json usage_json(const Usage& u);

// One request's response, built piece by piece as the scheduler's events arrive.
class Reply {
 public:
  Reply(const tokenizer::Tokenizer& tok, std::string model, bool chat, bool logprobs);
  // A streaming chunk carrying `e`'s text and logprobs (and its finish reason when final).
  nlohmann::json chunk(const Event& e);
  // The final usage-only chunk (stream_options.include_usage).
  nlohmann::json usage_chunk(const Usage& u) const;
  // Accumulates `e` for the non-streaming body.
  void add(const Event& e);
  // The whole completion object after the final event.
  nlohmann::json body(const Event& final) const;

 private:
  nlohmann::json head(const char* object) const;
  nlohmann::json logprobs_json(const std::vector<TokenLogprob>& lp);

  const tokenizer::Tokenizer& tok_;
  std::string id_, model_;
  int64_t created_;
  bool chat_, logprobs_, first_chunk_ = true;
  int64_t text_offset_ = 0;  // completions logprobs: where each token's text starts
  std::string text_;
  nlohmann::json all_logprobs_;  // accumulated for the non-streaming body
};

}  // namespace llamba::serve
