// StreamDecoder and the UTF-8 sanitizer behind it.
#include "tokenizer/stream_decoder.h"

#include "tokenizer/tokenizer.h"

namespace llamba::tokenizer {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Expected sequence length for a lead byte, 0 if it cannot start one.
size_t lead_len(uint8_t c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

// Whether byte `b` may follow at position k (1-based) of a sequence led by `lead` (shortest form only,
// no surrogates, at most U+10FFFF).
bool cont_ok(uint8_t lead, size_t k, uint8_t b) {
  if ((b & 0xC0) != 0x80) return false;
  if (k != 1) return true;
  if (lead == 0xE0) return b >= 0xA0;
  if (lead == 0xED) return b < 0xA0;
  if (lead == 0xF0) return b >= 0x90;
  if (lead == 0xF4) return b < 0x90;
  return true;
}

}  // namespace

std::string sanitize_utf8(std::string_view s, bool hold_incomplete, size_t* held) {
  std::string out;
  out.reserve(s.size());
  if (held) *held = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = (uint8_t)s[i];
    const size_t need = lead_len(c);
    if (need == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    size_t k = 1;  // bytes of the sequence that are well-formed so far
    while (k < need && i + k < s.size() && cont_ok(c, k, (uint8_t)s[i + k])) ++k;
    if (k == need) {
      out.append(s.substr(i, k));
    } else if (i + k == s.size() && hold_incomplete) {
      if (held) *held = k;  // may still complete with the next token
      break;
    } else {
      out += kReplacement;  // the maximal ill-formed subpart becomes one U+FFFD
    }
    i += k;
  }
  return out;
}

std::string StreamDecoder::push(int32_t id) { return push_bytes(tok_->token_bytes(id)); }

std::string StreamDecoder::push_bytes(std::string_view bytes) {
  pending_.append(bytes);
  size_t held = 0;
  std::string out = sanitize_utf8(pending_, true, &held);
  pending_.erase(0, pending_.size() - held);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = sanitize_utf8(pending_, false, nullptr);
  pending_.clear();
  return out;
}

}  // namespace llamba::tokenizer
