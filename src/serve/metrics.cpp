#include "serve/metrics.h"

#include <fmt/format.h>

namespace llamba::serve {

std::string metrics_text(const SchedulerStats& s, int64_t http_errors) {
  std::string out;
  auto add = [&](const char* name, const char* type, const char* help, double v) {
    out += fmt::format("# HELP llamba_{0} {1}\n# TYPE llamba_{0} {2}\nllamba_{0} {3}\n", name, help, type, v);
  };
  add("requests_total", "counter", "Completion requests accepted.", (double)s.requests);
  add("http_errors_total", "counter", "Responses with an error status.", (double)http_errors);
  add("queue_depth", "gauge", "Requests waiting for a slot.", (double)s.queued);
  add("active_sequences", "gauge", "Sequences being prefilled or decoded.", (double)s.active);
  add("prompt_tokens_total", "counter", "Prompt tokens received.", (double)s.prompt_tokens);
  add("prefill_tokens_total", "counter", "Prompt tokens run through the model.", (double)s.prefilled_tokens);
  add("cached_prompt_tokens_total", "counter", "Prompt tokens restored from the state cache.", (double)s.cached_tokens);
  add("generated_tokens_total", "counter", "Tokens generated.", (double)s.generated_tokens);
  add("state_cache_hits_total", "counter", "Requests that resumed from a cached state.", (double)s.cache_hits);
  add("state_cache_misses_total", "counter", "Requests with no cached prefix.", (double)s.cache_misses);
  add("state_cache_bytes", "gauge", "Bytes held by the state cache.", (double)s.cache_bytes);
  add("state_cache_entries", "gauge", "States held by the state cache.", (double)s.cache_entries);
  add("steps_total", "counter", "Scheduler steps (one batched decode plus prefill chunks).", (double)s.steps);
  add("step_seconds_total", "counter", "Time spent in scheduler steps.", s.step_seconds);
  return out;
}

}  // namespace llamba::serve
