// What every tokenizer harness checks once a vocabulary has loaded: encode (plain and with specials parsed),
// decode back to the exact input bytes whenever the vocabulary has a token for every byte of the text, the
// stream decoder's output equal to a one-shot sanitize, token ids in range, and the chat template rendering.
#pragma once

#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"

namespace llamba::fuzz {

// True when the vocabulary has a single-byte token for every byte of `text` (then BPE cannot drop a byte).
inline bool covers_bytes(const tokenizer::Tokenizer& t, std::string_view text) {
  for (const char c : text)
    if (t.bpe().byte_token((uint8_t)c) < 0) return false;
  return true;
}

inline void check_tokenizer(const tokenizer::Tokenizer& t, std::string_view text, const char* label) {
  const bool exact = covers_bytes(t, text);
  for (const bool parse_special : {false, true}) {
    const std::vector<int32_t> ids = t.encode(text, /*add_bos=*/false, parse_special);
    for (const int32_t id : ids) FUZZ_ASSERT(id >= 0 && id < t.vocab_size(), "{}: id {} out of range", label, id);
    const std::string back = t.decode(ids);
    if (exact)
      FUZZ_ASSERT(back == text, "{}: decode(encode(text, parse_special={})) is not the text ({} vs {} bytes)", label,
                  parse_special, back.size(), text.size());
    tokenizer::StreamDecoder sd(t);
    std::string streamed;
    for (const int32_t id : ids) streamed += sd.push(id);
    streamed += sd.flush();
    FUZZ_ASSERT(streamed == tokenizer::sanitize_utf8(back, false, nullptr),
                "{}: the stream decoder's text differs from sanitize_utf8(decode(ids))", label);
    const std::vector<int32_t> with_bos = t.encode(text, /*add_bos=*/true, parse_special);
    if (t.bos_id() >= 0)
      FUZZ_ASSERT(!with_bos.empty() && with_bos[0] == t.bos_id() && with_bos.size() == ids.size() + 1,
                  "{}: add_bos did not prepend exactly the BOS id", label);
  }
}

// The conversation a chat template renders in the harnesses: `text` as the user turn.
inline void check_chat(const tokenizer::Tokenizer& t, std::string_view text, const char* label) {
  if (t.chat_format() == tokenizer::ChatFormat::kNone) {
    expect_clean([&] { (void)t.apply_chat_template({{"user", std::string(text)}}, true); });
    return;
  }
  const std::string prompt =
      t.apply_chat_template({{"system", "You are terse."}, {"user", std::string(text)}, {"assistant", "ok"}}, true);
  FUZZ_ASSERT(!prompt.empty(), "{}: empty chat prompt", label);
  const std::vector<int32_t> ids = t.encode(prompt, false, true);
  if (covers_bytes(t, prompt)) FUZZ_ASSERT(t.decode(ids) == prompt, "{}: chat prompt does not round-trip", label);
}

}  // namespace llamba::fuzz
