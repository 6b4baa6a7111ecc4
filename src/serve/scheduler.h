// Scheduler: one thread owns the model and advances every active sequence together. Each step samples the next
// token of every decoding sequence, runs all of them as one batched forward (B rows of one token), and gives
// pending prompts a bounded number of prefill tokens (one sequence at a time, so a prompt's numerics never
// depend on what else runs and a long prompt never stalls the decoders for long). Requests wait in a queue
// until a slot frees. Prompts resume from the longest cached state (StateCache): recurrent states are
// snapshotted every `snapshot_interval` prompt tokens, and every model's state at the end of each prompt and of
// each generation, so a chat's next turn prefills only the new tokens.
// With a state budget (SchedulerOptions::state_budget, from --max-memory or the machine), each request of a
// KV-cache model reserves the cache it can grow to (prompt + max_tokens, at most the context): one that could
// never fit is refused at submit (OverMemoryBudget), the others wait in the queue until enough is free.
// Thread safety: submit(), stats() and shutdown() may be called from any thread; a Job is shared between the
// scheduler and one client handler.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/check.h"
#include "models/model.h"
#include "runtime/sampler.h"
#include "tokenizer/tokenizer.h"

namespace llamba::serve {

struct GenParams {
  int64_t max_tokens = -1;  // < 0: until end-of-generation or the context end
  runtime::SamplerParams sampling;
  std::vector<std::string> stop;
  bool ignore_eos = false;
  int top_logprobs = -1;  // < 0: no logprobs
};

// log-softmax of the model's logits (before penalties and temperature) for a generated token and the best others.
struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;
  std::vector<std::pair<int32_t, float>> top;
};

struct Usage {
  int64_t prompt_tokens = 0, completion_tokens = 0;
  int64_t cached_tokens = 0;  // prompt tokens restored from the state cache instead of prefilled
};

// What a request's handler receives, in order: text pieces (always whole UTF-8 characters), then one final.
struct Event {
  std::string text;
  std::vector<TokenLogprob> logprobs;  // the tokens this text came from, when asked
  bool final = false;
  std::string finish_reason;  // final: "stop" (end of generation or a stop string) | "length" | "cancelled"
  std::string error;          // final: why the request failed, if it did
  Usage usage;                // final
};

class Job {
 public:
  // Blocks until the next event; false once the final event has been taken.
  bool next(Event& e);
  // The client went away or gave up: the scheduler drops the sequence at its next step.
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }

 private:
  friend class Scheduler;
  void push(Event e);
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  bool done_ = false, finished_ = false;
  std::atomic<bool> cancelled_{false};
};

// A request whose sequence alone needs more state memory than the budget holds.
struct OverMemoryBudget : core::Error {
  using core::Error::Error;
};

struct SchedulerOptions {
  int parallel = 4;                   // sequences decoded together
  int64_t prefill_per_step = 128;     // prompt tokens prefilled per step (in chunks of at most this)
  int64_t snapshot_interval = 256;    // recurrent models: cache the state every this many prompt tokens
  int64_t cache_bytes = 256 << 20;    // state cache budget
  int64_t context = 0;                // tokens per sequence (prompt + generated); 0: the model's, else unbounded
  int64_t state_budget = 0;           // bytes the active sequences' KV caches may reserve together; 0: no limit
  std::string budget_source;          // where the budget comes from, for messages ("--max-memory 2G")
};

struct SchedulerStats {
  int64_t requests = 0, active = 0, queued = 0;
  int64_t prompt_tokens = 0, prefilled_tokens = 0, cached_tokens = 0, generated_tokens = 0;
  int64_t steps = 0;
  double step_seconds = 0;
  int64_t cache_hits = 0, cache_misses = 0, cache_bytes = 0, cache_entries = 0;
};

class Scheduler {
 public:
  Scheduler(const models::Model& model, const tokenizer::Tokenizer& tok, ops::Context& ctx, SchedulerOptions o);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request; its events arrive on the returned job. Throws llamba::Error after shutdown(), for an empty
  // prompt or one over the context, and OverMemoryBudget when its sequence could never fit the state budget.
  std::shared_ptr<Job> submit(std::vector<int32_t> prompt, GenParams p);
  SchedulerStats stats() const;
  int64_t context() const { return context_; }
  // Writes the state after exactly `tokens` to `path` (a GGUF state file, as runtime::Session::save_state),
  // from the cache or prefilled first. Throws llamba::Error. Blocks until written.
  void save_state(std::vector<int32_t> tokens, const std::string& path);
  // Reads a state file into the cache, so requests starting with its tokens resume from it; returns how many
  // tokens it holds. Throws llamba::Error naming the file.
  int64_t load_state(const std::string& path);
  // Stops admitting; cancels queued requests (and, if `cancel_active`, active ones), waits for the rest to end.
  void shutdown(bool cancel_active);

 private:
  struct Seq;
  void loop();
  void step();
  void admit();
  void finish(Seq& s, const char* reason, const std::string& error = {});
  void run_task(std::function<void()> f);  // runs f on the scheduler thread, rethrowing what it throws
  // The tokens a request's sequence may reach and the state bytes reserved for them (0 without a budget).
  void reserve(Seq& s) const;

  const models::Model& model_;
  const tokenizer::Tokenizer& tok_;
  ops::Context& ctx_;
  SchedulerOptions opt_;
  int64_t context_ = 0;

  mutable std::mutex mu_;  // guards queue_, stopping_, stats_
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Seq>> queue_;
  std::deque<std::packaged_task<void()>> tasks_;
  bool stopping_ = false, cancel_active_ = false;
  SchedulerStats stats_;

  // Scheduler thread only.
  std::vector<std::unique_ptr<Seq>> active_;
  std::unique_ptr<class StateCache> cache_;
  size_t prefill_turn_ = 0;
  int64_t reserved_ = 0;  // state bytes reserved by the active sequences
  std::vector<float> batch_logits_;  // the batched decode's (B, V) output, reused across steps
  std::vector<std::pair<std::shared_ptr<Job>, Event>> finals_;  // finished in this step
  std::thread thread_;
};

}  // namespace llamba::serve
