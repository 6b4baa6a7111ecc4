// The memory `llamba serve` needs before any request, and what is left for the requests' KV caches
// (runtime/memory_budget.h, SchedulerOptions::state_budget).
#pragma once

#include "runtime/memory_budget.h"
#include "serve/scheduler.h"

namespace llamba::serve {

// What the server holds whatever its requests: the weights, the forward's temporaries (a decode batch of
// `parallel` rows or a prefill chunk), the logits of the batch and of each slot, the state cache, and the states:
// a recurrent model's `parallel` constant states; a KV-cache model's one sequence of the whole context (so that
// a request of that length can run), the others reserved request by request.
runtime::MemoryNeed server_memory_need(const models::Model& model, const SchedulerOptions& o);

// What the KV caches of a KV-cache model's active requests may reserve together: the limit less everything else
// in `need` (with the machine's limit, less what is known to be needed). 0 (no budget) for recurrent models,
// whose states `need` counts whole, and when the limit is unknown.
int64_t request_state_budget(const models::Model& model, const runtime::MemoryNeed& need,
                             const runtime::MemoryLimit& limit);

}  // namespace llamba::serve
