// SpecialMatcher: added-token search by first byte, then by length (longest first) in a hash index.
#include "tokenizer/special_tokens.h"

#include <algorithm>
#include <cstring>

namespace llamba::tokenizer {

namespace {
bool is_added(TokenType t) {
  return t == TokenType::kControl || t == TokenType::kUnknown || t == TokenType::kUserDefined;
}
}  // namespace

void SpecialMatcher::build(const Vocab& vocab) {
  vocab_ = &vocab;
  index_.reserve(64);
  lengths_.clear();
  std::fill(std::begin(first_byte_), std::end(first_byte_), false);
  distinct_first_ = 0;
  any_ = any_always_ = false;
  for (int32_t id = 0; id < vocab.size(); ++id) {
    const TokenType t = vocab.type(id);
    const std::string_view b = vocab.bytes(id);
    if (!is_added(t) || b.empty() || !vocab.is_set(id)) continue;
    if (index_.insert(b, id, [&](int32_t v) { return vocab.bytes(v); }) != id) continue;  // duplicate text
    any_ = true;
    if (t == TokenType::kUserDefined) any_always_ = true;
    if (std::find(lengths_.begin(), lengths_.end(), b.size()) == lengths_.end()) lengths_.push_back(b.size());
    if (!first_byte_[(uint8_t)b[0]]) {
      first_byte_[(uint8_t)b[0]] = true;
      ++distinct_first_;
      only_first_ = b[0];
    }
  }
  std::sort(lengths_.rbegin(), lengths_.rend());
}

bool SpecialMatcher::match_at(std::string_view text, size_t i, bool parse_special, size_t* len, int32_t* id) const {
  for (const size_t l : lengths_) {
    if (i + l > text.size()) continue;
    const int32_t t = index_.find(text.substr(i, l), [this](int32_t v) { return vocab_->bytes(v); });
    if (t < 0) continue;
    if (!parse_special && vocab_->type(t) != TokenType::kUserDefined) continue;
    *len = l;
    *id = t;
    return true;
  }
  return false;
}

bool SpecialMatcher::find(std::string_view text, size_t from, bool parse_special, size_t* begin, size_t* len,
                          int32_t* id) const {
  if (!active(parse_special)) return false;
  for (size_t i = from; i < text.size(); ++i) {
    if (distinct_first_ == 1) {  // the usual case ('<'): let memchr skip ahead
      const void* hit = std::memchr(text.data() + i, only_first_, text.size() - i);
      if (!hit) return false;
      i = (size_t)(static_cast<const char*>(hit) - text.data());
    } else if (!first_byte_[(uint8_t)text[i]]) {
      continue;
    }
    if (match_at(text, i, parse_special, len, id)) {
      *begin = i;
      return true;
    }
  }
  return false;
}

}  // namespace llamba::tokenizer
