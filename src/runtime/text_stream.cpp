#include "runtime/text_stream.h"

#include <utility>

namespace llamba::runtime {

namespace {
// Length of the longest suffix of `text` that is a proper prefix of some stop string.
size_t held_suffix(const std::string& text, const std::vector<std::string>& stop) {
  size_t held = 0;
  for (const auto& s : stop)
    for (size_t n = std::min(s.size() - 1, text.size()); n > held; --n)
      if (text.compare(text.size() - n, n, s, 0, n) == 0) {
        held = n;
        break;
      }
  return held;
}
}  // namespace

TextStream::TextStream(const tokenizer::Tokenizer& tok, std::vector<std::string> stop)
    : dec_(tok), stop_(std::move(stop)) {
  std::erase_if(stop_, [](const std::string& s) { return s.empty(); });
}

std::string TextStream::push(int32_t id) {
  if (stopped_) return {};
  pending_ += dec_.push(id);
  size_t first = std::string::npos;  // the earliest stop string wins
  for (const auto& s : stop_) first = std::min(first, pending_.find(s));
  if (first != std::string::npos) {
    pending_.resize(first);
    stopped_ = true;
    return {};  // finish() hands out what precedes the stop string
  }
  const size_t keep = held_suffix(pending_, stop_);
  std::string out = pending_.substr(0, pending_.size() - keep);
  pending_.erase(0, pending_.size() - keep);
  return out;
}

std::string TextStream::finish() {
  if (!stopped_) pending_ += dec_.flush();
  return std::exchange(pending_, {});
}

}  // namespace llamba::runtime
