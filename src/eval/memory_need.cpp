// The Scorer's largest batch, in memory.
#include "eval/memory_need.h"

#include <algorithm>
#include <filesystem>

#include "eval/scorer.h"
#include "io/xz.h"

namespace llamba::eval {

runtime::MemoryNeed scoring_memory_need(const models::Model& model, const models::Model* base, int64_t batch,
                                        int64_t T, int64_t scored_from) {
  const int64_t per_token = model.info().n_vocab * (int64_t)sizeof(float) * (base ? 2 : 1);
  const int64_t budget = ScorerOptions{}.logits_budget;
  int64_t B = 1;
  while (B < batch && (B + 1) * T * per_token <= budget) ++B;
  runtime::Workload w;
  w.sequences = B;
  w.tokens = T;
  w.rows = B;
  w.row_tokens = T;
  w.logits_rows = B * (T - scored_from);
  runtime::MemoryNeed need = runtime::estimate_memory(model, w);
  if (base) need += runtime::estimate_memory(*base, w);
  return need;
}

int64_t longest_line(const std::string& text) {
  int64_t longest = 0;
  for (size_t at = 0; at <= text.size();) {
    const size_t end = std::min(text.find('\n', at), text.size());
    longest = std::max<int64_t>(longest, (int64_t)(end - at));
    at = end + 1;
  }
  return longest;
}

int64_t longest_line_in(const std::string& dir) {
  int64_t longest = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (e.is_regular_file() && (n.ends_with(".jsonl") || n.ends_with(".jsonl.xz")))
      longest = std::max(longest, longest_line(io::read_text_file(e.path().string())));
  }
  return longest;
}

}  // namespace llamba::eval
