// Vocab storage and the GPT-2 byte-level alphabet.
#include "tokenizer/vocab.h"

#include <array>

#include "core/check.h"

namespace llamba::tokenizer {

void Vocab::resize(int32_t n) {
  if (n <= size()) return;
  begin_.resize(n, (uint32_t)arena_.size());
  len_.resize(n, 0);
  types_.resize(n, TokenType::kUnused);
  set_.resize(n, 0);
}

void Vocab::set(int32_t id, std::string_view bytes, TokenType type, bool indexed) {
  LLAMBA_CHECK(id >= 0);
  resize(id + 1);
  begin_[id] = (uint32_t)arena_.size();
  len_[id] = (uint32_t)bytes.size();
  arena_.append(bytes);
  LLAMBA_CHECK(arena_.size() < (1ull << 32), "vocabulary larger than 4 GiB");
  types_[id] = type;
  set_[id] = 1;
  if (indexed) index_.insert(bytes, id, [this](int32_t v) { return this->bytes(v); });
}

namespace {

// byte -> code point and code point (< 324) -> byte, built once.
struct ByteLevelTables {
  std::array<uint16_t, 256> to_cp{};
  std::array<int16_t, 324> to_byte{};
  ByteLevelTables() {
    to_byte.fill(-1);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_cp[b] = (uint16_t)(printable ? b : 256 + extra++);
      to_byte[to_cp[b]] = (int16_t)b;
    }
  }
};

const ByteLevelTables& tables() {
  static const ByteLevelTables t;
  return t;
}

}  // namespace

std::optional<std::string> byte_level_decode(std::string_view s) {
  const auto& t = tables();
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = (uint8_t)s[i];
    uint32_t cp;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < s.size() && ((uint8_t)s[i + 1] & 0xC0) == 0x80) {
      cp = ((c & 0x1Fu) << 6) | ((uint8_t)s[i + 1] & 0x3Fu);
      if (cp < 0x80) return std::nullopt;  // overlong
      i += 2;
    } else {
      return std::nullopt;  // the alphabet ends at U+0143: two-byte sequences at most
    }
    if (cp >= t.to_byte.size() || t.to_byte[cp] < 0) return std::nullopt;
    out.push_back((char)t.to_byte[cp]);
  }
  return out;
}

std::string byte_level_encode(std::string_view bytes) {
  const auto& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char ch : bytes) {
    const uint16_t cp = t.to_cp[(uint8_t)ch];
    if (cp < 0x80) {
      out.push_back((char)cp);
    } else {
      out.push_back((char)(0xC0 | (cp >> 6)));
      out.push_back((char)(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

}  // namespace llamba::tokenizer
