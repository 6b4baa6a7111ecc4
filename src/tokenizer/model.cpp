// Helpers shared by the loaders.
#include "tokenizer/model.h"

#include <algorithm>

namespace llamba::tokenizer {

void collect_eog(TokenizerModel& m) {
  // Special tokens that end a turn in the formats we know (llama.cpp llama-vocab.cpp does the same by name).
  static const char* const kNames[] = {"<|end_of_text|>", "<|eot_id|>", "<|eom_id|>",   "<|im_end|>",
                                       "<|endoftext|>",   "<|end|>",    "<end_of_turn>"};
  std::vector<int32_t> ids;
  for (const int32_t id : {m.eos, m.eot, m.eom})
    if (id >= 0 && id < m.vocab.size()) ids.push_back(id);
  for (int32_t id = 0; id < m.vocab.size(); ++id) {
    const TokenType t = m.vocab.type(id);
    if (t != TokenType::kControl && t != TokenType::kUserDefined) continue;
    for (const char* n : kNames)
      if (m.vocab.bytes(id) == n) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  m.eog = std::move(ids);
}

}  // namespace llamba::tokenizer
