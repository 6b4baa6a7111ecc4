// OpenAI-style request bodies to validated requests: /v1/completions and /v1/chat/completions. Every bad field
// becomes an ApiError naming it (HTTP status, OpenAI error type, the parameter), never a crash. Fields the
// server does not know are ignored, as OpenAI's API does. Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/sampler.h"
#include "tokenizer/chat_template.h"

namespace llamba::serve {

// An error the client caused (or a server limit): rendered as {"error": {"message", "type", "param", "code"}}.
struct ApiError : std::runtime_error {
  ApiError(int status, std::string message, std::string param = {}, std::string type = "invalid_request_error")
      : std::runtime_error(message), status(status), param(std::move(param)), type(std::move(type)) {}
  int status;
  std::string param, type;
  nlohmann::json body() const;
};

struct CompletionRequest {
  bool chat = false;
  std::string model;                              // "" when the client gave none
  std::string prompt;                             // completions
  std::vector<tokenizer::ChatMessage> messages;   // chat
  int64_t max_tokens = -1;                        // -1: until end-of-generation or the context end
  runtime::SamplerParams sampling;
  std::vector<std::string> stop;
  bool stream = false, include_usage = false;
  bool ignore_eos = false;
  int top_logprobs = -1;                          // -1: no logprobs; else alternatives per token (0..20)
};

// Parses a request body. Throws ApiError(400) naming the field for malformed JSON, a wrong type or a value out
// of range. Sampling defaults follow OpenAI's: temperature 1, top_p 1, no top-k / min-p / penalties.
CompletionRequest parse_completion_request(const std::string& body, bool chat);
CompletionRequest parse_completion_request(const nlohmann::json& body, bool chat);  // already parsed

// The body as a JSON object, or ApiError(400) ("malformed JSON at byte N" / "the body must be a JSON object").
nlohmann::json parse_json_object(const std::string& body);

}  // namespace llamba::serve
