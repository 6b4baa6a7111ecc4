// StreamDecoder: turns generated ids into printable text one id at a time. A token may end inside a UTF-8
// character, so bytes are held back until the character completes; bytes that can never form a character
// become U+FFFD (one per maximal ill-formed subsequence, as Python's errors="replace" does).
// Thread safety: one decoder per stream; not for concurrent use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace llamba::tokenizer {

class Tokenizer;

class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok) : tok_(&tok) {}
  // The text that became complete with `id`: always valid UTF-8.
  std::string push(int32_t id);
  // Appends raw bytes instead of a token (same rules as push).
  std::string push_bytes(std::string_view bytes);
  // Ends the stream: an unfinished character left over becomes U+FFFD. The decoder is then empty.
  std::string flush();
  void reset() { pending_.clear(); }
  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer* tok_;
  std::string pending_;
};

// Converts bytes to valid UTF-8, replacing ill-formed subsequences with U+FFFD. When `hold_incomplete`,
// a valid but unfinished sequence at the end is not converted: its length is returned in *held.
std::string sanitize_utf8(std::string_view bytes, bool hold_incomplete, size_t* held);

}  // namespace llamba::tokenizer
