// Text generation over a Session: prefill the prompt, then sample token by token, streaming valid UTF-8 text,
// until an end-of-generation token, a stop string, the token budget or the model's context is reached.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sampler.h"
#include "runtime/session.h"
#include "tokenizer/tokenizer.h"

namespace llamba::runtime {

struct GenerateOptions {
  int64_t max_tokens = 256;  // < 0: no budget (until EOG, a stop string or the context end)
  SamplerParams sampling;
  bool ignore_eos = false;
  std::vector<std::string> stop;  // stop strings; the matched text is not emitted
};

struct GenerateStats {
  int64_t n_prompt = 0, n_generated = 0;
  double prefill_s = 0, decode_s = 0;
  std::string stop_reason;  // "eog", "length", "stop", "context", "callback"
  std::vector<int32_t> tokens;  // generated ids (the final EOG id not included)
};

// `on_text` receives each newly completed piece of text; returning false stops generation.
GenerateStats generate(Session& session, const tokenizer::Tokenizer& tok, std::span<const int32_t> prompt,
                       const GenerateOptions& opts, const std::function<bool(std::string_view)>& on_text);

}  // namespace llamba::runtime
