// The server's memory before requests, and the budget they share.
#include "serve/memory_need.h"

#include <algorithm>

namespace llamba::serve {

runtime::MemoryNeed server_memory_need(const models::Model& model, const SchedulerOptions& o) {
  const bool kv = !model.info().recurrent;
  const int64_t context = o.context > 0 ? o.context : model.info().context_length;  // as the Scheduler
  runtime::Workload w;
  w.sequences = kv ? (context > 0 ? 1 : 0) : o.parallel;
  w.tokens = kv ? std::max<int64_t>(0, context) : 0;
  w.row_tokens = std::max<int64_t>(o.parallel, o.prefill_per_step);
  w.logits_rows = 2 * (int64_t)o.parallel;
  runtime::MemoryNeed need = runtime::estimate_memory(model, w);
  if (kv) need.states_what += ", the others reserved per request";
  need.extra = o.cache_bytes;
  need.extra_what = "state cache";
  return need;
}

int64_t request_state_budget(const models::Model& model, const runtime::MemoryNeed& need,
                             const runtime::MemoryLimit& limit) {
  if (model.info().recurrent || limit.bytes <= 0) return 0;
  const int64_t others = (limit.from_flag ? need.total() : need.known()) - need.states - need.state_growth;
  return std::max<int64_t>(1, limit.bytes - others);
}

}  // namespace llamba::serve
