// The bench matrix's largest test, in memory.
#include "bench/memory_need.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace llamba::bench {

runtime::MemoryNeed memory_need(const models::Model& model, const Spec& spec) {
  runtime::MemoryNeed worst;
  for (int64_t S : spec.seqs)
    for (int64_t D : spec.depths)
      for (const auto& [sizes, prefill] : {std::pair{&spec.prefill, true}, std::pair{&spec.decode, false}})
        for (int64_t n : *sizes) {
          runtime::Workload w;
          w.sequences = S;
          w.tokens = D + n;
          w.rows = S;
          w.row_tokens = std::max<int64_t>(prefill ? n : 1, std::min<int64_t>(D, 512));
          w.logits_rows = S;
          runtime::MemoryNeed need = runtime::estimate_memory(model, w);
          need.states += 2 * S * runtime::sequence_state_bytes(model, D);
          need.states_what = fmt::format("{} sequences of {} tokens, and {} copies at depth {}", S, D + n, 2 * S, D);
          if (need.total() > worst.total()) worst = need;
        }
  return worst;
}

}  // namespace llamba::bench
