// Vocabulary: the raw bytes and type of every token id, and a bytes -> id index over the BPE tokens.
// Also the GPT-2 byte-level alphabet (bytes <-> printable code points) used by tokenizer.json and GGUF files.
// Thread safety: immutable after loading; concurrent reads are safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/flat_hash.h"

namespace llamba::tokenizer {

// Token types as stored in GGUF `tokenizer.ggml.token_type` (llama.cpp's values).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

class Vocab {
 public:
  // Sets token `id` (growing the table; unset ids stay empty and kUnused). `indexed` tokens take part in BPE
  // (vocabulary lookups of whole pre-tokens and merge results); special tokens are not indexed.
  void set(int32_t id, std::string_view bytes, TokenType type, bool indexed);
  void resize(int32_t n);

  int32_t size() const { return (int32_t)begin_.size(); }
  std::string_view bytes(int32_t id) const { return {arena_.data() + begin_[id], (size_t)len_[id]}; }
  TokenType type(int32_t id) const { return types_[id]; }
  bool is_set(int32_t id) const { return set_[id]; }
  // The indexed token with exactly these bytes, or -1.
  int32_t find(std::string_view bytes) const {
    return index_.find(bytes, [this](int32_t v) { return this->bytes(v); });
  }

 private:
  std::string arena_;
  std::vector<uint32_t> begin_;
  std::vector<uint32_t> len_;
  std::vector<TokenType> types_;
  std::vector<uint8_t> set_;
  BytesIndex index_;
};

// GPT-2's reversible byte <-> code point map: printable bytes map to themselves, the others to U+0100.. .
// `byte_level_decode` turns a token string in that alphabet back into raw bytes; nullopt if some character
// is outside the alphabet.
std::optional<std::string> byte_level_decode(std::string_view token);
std::string byte_level_encode(std::string_view bytes);

}  // namespace llamba::tokenizer
