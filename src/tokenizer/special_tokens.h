// Finds added tokens (special and user-defined) in raw text before pre-tokenization: the leftmost match,
// and the longest token at that position (HF's leftmost-longest rule; tiktoken and llama.cpp agree on our
// vocabularies, where no added token is a prefix of another).
// Thread safety: immutable after build(); find() may run concurrently.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/flat_hash.h"
#include "tokenizer/vocab.h"

namespace llamba::tokenizer {

class SpecialMatcher {
 public:
  // Indexes every non-empty token of type kControl, kUnknown (matched only when parsing specials) and
  // kUserDefined (always matched). `vocab` must outlive the matcher.
  void build(const Vocab& vocab);
  // True if find() can match anything with this setting.
  bool active(bool parse_special) const { return parse_special ? any_ : any_always_; }
  // The first eligible added token at or after `from`; false if there is none.
  bool find(std::string_view text, size_t from, bool parse_special, size_t* begin, size_t* len, int32_t* id) const;
  // The added token whose text is exactly `text`, or -1.
  int32_t find_exact(std::string_view text) const {
    return index_.find(text, [this](int32_t v) { return vocab_->bytes(v); });
  }

 private:
  bool match_at(std::string_view text, size_t i, bool parse_special, size_t* len, int32_t* id) const;

  const Vocab* vocab_ = nullptr;
  BytesIndex index_;
  std::vector<size_t> lengths_;  // distinct token lengths, longest first
  bool first_byte_[256] = {};
  int distinct_first_ = 0;
  char only_first_ = 0;
  bool any_ = false, any_always_ = false;
};

}  // namespace llamba::tokenizer
