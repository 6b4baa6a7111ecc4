// TextStream: generated token ids to text a client may see now. Bytes of an unfinished UTF-8 character wait for
// the rest (tokenizer::StreamDecoder); stop strings are matched on the decoded text across token boundaries, and
// a suffix that could still become a stop string is held back until it cannot. Shared by generate() and the
// server. Thread safety: one stream per generation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/stream_decoder.h"

namespace llamba::runtime {

class TextStream {
 public:
  TextStream(const tokenizer::Tokenizer& tok, std::vector<std::string> stop);
  // Adds a generated id; returns the text that became safe to emit (possibly empty). When a stop string
  // completes, stopped() turns true and the stop string and anything decoded after it are dropped.
  std::string push(int32_t id);
  // Ends the stream: everything held back (an unfinished character becomes U+FFFD unless stopped()).
  std::string finish();
  bool stopped() const { return stopped_; }

 private:
  tokenizer::StreamDecoder dec_;
  std::vector<std::string> stop_;
  std::string pending_;  // decoded, not yet emitted: may be the start of a stop string
  bool stopped_ = false;
};

}  // namespace llamba::runtime
