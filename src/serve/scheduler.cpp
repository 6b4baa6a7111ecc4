#include "serve/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "core/check.h"
#include "runtime/memory_budget.h"
#include "runtime/session.h"
#include "runtime/text_stream.h"
#include "serve/state_cache.h"

namespace llamba::serve {

bool Job::next(Event& e) {
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return !events_.empty() || finished_; });
  if (events_.empty()) return false;
  e = std::move(events_.front());
  events_.pop_front();
  if (e.final) finished_ = true;
  return true;
}

void Job::push(Event e) {
  {
    std::lock_guard lk(mu_);
    events_.push_back(std::move(e));
  }
  cv_.notify_all();
}

struct Scheduler::Seq {
  Seq(std::shared_ptr<Job> j, std::vector<int32_t> p, GenParams g, const tokenizer::Tokenizer& tok)
      : job(std::move(j)), prompt(std::move(p)), params(std::move(g)), sampler(params.sampling),
        text(tok, params.stop) {}
  std::shared_ptr<Job> job;
  std::vector<int32_t> prompt;
  GenParams params;
  runtime::Sampler sampler;
  runtime::TextStream text;
  std::unique_ptr<models::SequenceState> state;
  std::vector<int32_t> tokens;  // consumed by the state
  std::vector<float> logits;    // after `tokens`; empty until the first forward or a cache restore
  int64_t generated = 0, cached = 0;
  int64_t token_limit = 0;  // tokens the sequence may reach (the context, or what its reservation holds); 0: none
  int64_t reserved = 0;     // state bytes reserved from the budget while active
  bool done = false;
  bool prefilling() const { return tokens.size() < prompt.size(); }
};

namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Event final_event(const char* reason, const std::string& error) {
  Event e;
  e.final = true;
  e.finish_reason = reason;
  e.error = error;
  return e;
}

TokenLogprob logprob_of(std::span<const float> logits, int32_t id, int top) {
  const float mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp((double)l - mx);
  const double lse = mx + std::log(sum);
  TokenLogprob t{id, (float)(logits[id] - lse), {}};
  if (top > 0) {
    std::vector<int32_t> idx(logits.size());
    std::iota(idx.begin(), idx.end(), 0);
    const size_t k = std::min<size_t>(top, idx.size());
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int32_t a, int32_t b) {
      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    for (size_t i = 0; i < k; ++i) t.top.emplace_back(idx[i], (float)(logits[idx[i]] - lse));
  }
  return t;
}
}  // namespace

Scheduler::Scheduler(const models::Model& model, const tokenizer::Tokenizer& tok, ops::Context& ctx,
                     SchedulerOptions o)
    : model_(model), tok_(tok), ctx_(ctx), opt_(o), cache_(std::make_unique<StateCache>(o.cache_bytes)) {
  LLAMBA_ENSURE(o.parallel >= 1, "parallel must be >= 1, got {}", o.parallel);
  LLAMBA_ENSURE(o.prefill_per_step >= 1, "prefill tokens per step must be >= 1, got {}", o.prefill_per_step);
  LLAMBA_ENSURE(o.snapshot_interval >= 1, "snapshot interval must be >= 1, got {}", o.snapshot_interval);
  const int64_t model_ctx = model.info().context_length;
  context_ = o.context > 0 ? o.context : model_ctx;
  LLAMBA_ENSURE(model_ctx <= 0 || context_ <= model_ctx, "context {} exceeds the model's {} tokens", context_, model_ctx);
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() { shutdown(true); }

std::shared_ptr<Job> Scheduler::submit(std::vector<int32_t> prompt, GenParams p) {
  LLAMBA_ENSURE(!prompt.empty(), "the prompt is empty");
  LLAMBA_ENSURE(context_ <= 0 || (int64_t)prompt.size() <= context_,
                "the prompt has {} tokens; the context holds {} (prompt and completion)", prompt.size(), context_);
  if (p.sampling.seed == (uint64_t)-1) p.sampling.seed = std::random_device{}();
  auto job = std::make_shared<Job>();
  auto seq = std::make_unique<Seq>(job, std::move(prompt), std::move(p), tok_);
  reserve(*seq);
  {
    std::lock_guard lk(mu_);
    LLAMBA_ENSURE(!stopping_, "the server is shutting down");
    ++stats_.requests;
    stats_.prompt_tokens += (int64_t)seq->prompt.size();
    queue_.push_back(std::move(seq));
    stats_.queued = (int64_t)queue_.size();
  }
  cv_.notify_all();
  return job;
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

void Scheduler::shutdown(bool cancel_active) {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    cancel_active_ = cancel_active_ || cancel_active;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::loop() {
  for (;;) {
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !queue_.empty() || !active_.empty() || !tasks_.empty(); });
      while (!tasks_.empty()) {
        auto t = std::move(tasks_.front());
        tasks_.pop_front();
        lk.unlock();
        t();
        lk.lock();
      }
      if (stopping_) {
        for (auto& s : queue_) s->job->push(final_event("cancelled", "the server is shutting down"));
        queue_.clear();
        if (cancel_active_)
          for (auto& s : active_) s->job->cancel();
      }
      if (stopping_ && active_.empty()) return;
    }
    admit();
    step();
  }
}

void Scheduler::run_task(std::function<void()> f) {
  std::packaged_task<void()> task(std::move(f));
  std::future<void> done = task.get_future();
  {
    std::lock_guard lk(mu_);
    LLAMBA_ENSURE(!stopping_, "the server is shutting down");
    tasks_.push_back(std::move(task));
  }
  cv_.notify_all();
  done.get();
}

void Scheduler::save_state(std::vector<int32_t> tokens, const std::string& path) {
  GenParams p;
  p.max_tokens = 0;  // prefill (or restore) only; finish() caches the state after the prompt
  std::shared_ptr<Job> job = submit(tokens, p);
  for (Event e; job->next(e);)
    LLAMBA_ENSURE(e.error.empty(), "{}", e.error);
  run_task([&] {
    const StateCache::Entry* e = cache_->longest_prefix(tokens);
    LLAMBA_ENSURE(e && e->tokens.size() == tokens.size(),
                  "the state does not fit the state cache ({} bytes): raise --state-cache-mb", cache_->budget());
    runtime::Session session(model_, ctx_);
    session.restore({e->state->clone(), e->tokens, e->logits});
    session.save_state(path);
  });
}

int64_t Scheduler::load_state(const std::string& path) {
  int64_t n = 0;
  run_task([&] {
    runtime::Session session(model_, ctx_);
    session.load_state(path);
    const runtime::Snapshot snap = session.snapshot();
    LLAMBA_ENSURE(!snap.tokens.empty() && !snap.logits.empty(), "{}: the state holds no tokens", path);
    cache_->put(snap.tokens, *snap.state, snap.logits);
    n = (int64_t)snap.tokens.size();
  });
  return n;
}

void Scheduler::reserve(Seq& s) const {
  s.token_limit = context_;
  // Recurrent states are constant: the parallel slots' states were counted once, before the server started.
  if (opt_.state_budget <= 0 || model_.info().recurrent) return;
  const int64_t prompt = (int64_t)s.prompt.size();
  auto bytes = [&](int64_t t) {
    return runtime::sequence_state_bytes(model_, t) + runtime::sequence_growth_bytes(model_, t);
  };
  int64_t n = s.params.max_tokens >= 0 ? prompt + s.params.max_tokens : -1;
  if (context_ > 0) n = n < 0 ? context_ : std::min(n, context_);
  if (n < 0) {  // nothing bounds the sequence: it may grow as far as the whole budget holds
    n = prompt;
    while (n < (int64_t(1) << 40) && bytes(2 * n) <= opt_.state_budget) n *= 2;  // (the estimate's own ceiling)
  }
  if (bytes(n) > opt_.state_budget)
    throw OverMemoryBudget(fmt::format(
        "the request needs {} of KV cache for {} tokens (a {}-token prompt{}); the server's budget for sequences "
        "is {} ({}, less the weights, scratch and state cache)\n---> HINT: lower max_tokens or shorten the prompt",
        runtime::format_bytes(bytes(n)), n, prompt,
        s.params.max_tokens >= 0 ? fmt::format(" + max_tokens {}", s.params.max_tokens) : " + the context",
        runtime::format_bytes(opt_.state_budget), opt_.budget_source));
  s.token_limit = n;
  s.reserved = bytes(n);
}

void Scheduler::admit() {
  std::lock_guard lk(mu_);
  while ((int)active_.size() < opt_.parallel && !queue_.empty()) {
    // First come, first served: the next request waits until its KV cache fits beside the active ones (it always
    // fits alone, or submit refused it).
    if (opt_.state_budget > 0 && reserved_ + queue_.front()->reserved > opt_.state_budget) break;
    std::unique_ptr<Seq> s = std::move(queue_.front());
    queue_.pop_front();
    reserved_ += s->reserved;
    if (const StateCache::Entry* e = cache_->longest_prefix(s->prompt)) {
      s->state = e->state->clone();
      s->tokens = e->tokens;
      s->logits = e->logits;
      s->cached = (int64_t)e->tokens.size();
      stats_.cached_tokens += s->cached;
    } else {
      s->state = model_.new_state();
    }
    active_.push_back(std::move(s));
  }
  stats_.queued = (int64_t)queue_.size();
  stats_.active = (int64_t)active_.size();
}

void Scheduler::finish(Seq& s, const char* reason, const std::string& error) {
  Event e = final_event(reason, error);
  if (error.empty()) e.text = s.text.finish();
  e.usage = {(int64_t)s.prompt.size(), s.generated, s.cached};
  // The state after everything it consumed: the next turn of this conversation starts from here.
  if (error.empty() && !s.logits.empty() && !s.tokens.empty()) cache_->put(s.tokens, *s.state, s.logits);
  s.done = true;
  finals_.emplace_back(s.job, std::move(e));  // delivered after this step's counters are published
}

void Scheduler::step() {
  const double t0 = now_s();
  const int64_t V = model_.info().n_vocab;
  // 1. Sample the next token of every sequence whose logits are ready.
  std::vector<Seq*> decode;
  std::vector<int32_t> ids;
  int64_t sampled = 0;
  for (auto& sp : active_) {
    Seq& s = *sp;
    if (s.job->cancelled()) {
      finish(s, "cancelled");
      continue;
    }
    if (s.prefilling() || s.logits.empty()) continue;
    if (s.params.max_tokens == 0) {
      finish(s, "length");
      continue;
    }
    const int32_t id = s.sampler.sample(s.logits, s.tokens);
    if (!s.params.ignore_eos && tok_.is_eog(id)) {
      finish(s, "stop");
      continue;
    }
    ++s.generated;
    ++sampled;
    Event ev;
    ev.text = s.text.push(id);
    if (s.params.top_logprobs >= 0) ev.logprobs.push_back(logprob_of(s.logits, id, s.params.top_logprobs));
    if (s.text.stopped()) {
      finish(s, "stop");
      continue;
    }
    if (!ev.text.empty() || !ev.logprobs.empty()) s.job->push(std::move(ev));
    const bool budget_spent = s.params.max_tokens >= 0 && s.generated >= s.params.max_tokens;
    const bool context_full = s.token_limit > 0 && (int64_t)s.tokens.size() >= s.token_limit;  // as generate()
    if (budget_spent || context_full) {
      finish(s, "length");  // no forward for a token nobody reads
      continue;
    }
    decode.push_back(&s);
    ids.push_back(id);
  }
  // 2. One batched forward for all of them: row b continues sequence decode[b].
  if (!decode.empty()) {
    std::vector<models::SequenceState*> states;
    for (Seq* s : decode) states.push_back(s->state.get());
    std::vector<float>& logits = batch_logits_;
    logits.resize(decode.size() * V);
    try {
      model_.forward(ctx_, ids, (int64_t)decode.size(), states, core::view_f32(logits, {(int64_t)decode.size(), V}));
      for (size_t b = 0; b < decode.size(); ++b) {
        decode[b]->tokens.push_back(ids[b]);
        decode[b]->logits.assign(logits.begin() + b * V, logits.begin() + (b + 1) * V);
      }
    } catch (const std::exception& e) {
      for (Seq* s : decode) finish(*s, "cancelled", e.what());
    }
  }
  // 3. Prefill: up to prefill_per_step prompt tokens, sequence by sequence in turn, chunks ending at snapshot
  //    boundaries (recurrent models) and at the prompt's end.
  int64_t budget = opt_.prefill_per_step, prefilled = 0;
  const bool recurrent = model_.info().recurrent;
  for (size_t k = 0; k < active_.size() && budget > 0; ++k) {
    Seq& s = *active_[(prefill_turn_ + k) % active_.size()];
    if (s.done || !s.prefilling()) continue;
    const int64_t pos = (int64_t)s.tokens.size();
    int64_t n = std::min<int64_t>(budget, (int64_t)s.prompt.size() - pos);
    if (recurrent) n = std::min(n, opt_.snapshot_interval - pos % opt_.snapshot_interval);
    s.logits.resize(V);
    try {
      models::SequenceState* st = s.state.get();
      model_.forward(ctx_, std::span(s.prompt).subspan(pos, n), 1, {&st, 1}, core::view_f32(s.logits, {1, V}));
    } catch (const std::exception& e) {
      finish(s, "cancelled", e.what());
      continue;
    }
    s.tokens.insert(s.tokens.end(), s.prompt.begin() + pos, s.prompt.begin() + pos + n);
    budget -= n;
    prefilled += n;
    const bool at_boundary = recurrent && (int64_t)s.tokens.size() % opt_.snapshot_interval == 0;
    if (at_boundary || !s.prefilling()) cache_->put(s.tokens, *s.state, s.logits);
  }
  if (!active_.empty()) prefill_turn_ = (prefill_turn_ + 1) % active_.size();
  std::erase_if(active_, [this](const std::unique_ptr<Seq>& s) {
    if (s->done) reserved_ -= s->reserved;
    return s->done;
  });
  {
    std::lock_guard lk(mu_);
    stats_.active = (int64_t)active_.size();
    stats_.prefilled_tokens += prefilled;
    stats_.generated_tokens += sampled;
    ++stats_.steps;
    stats_.step_seconds += now_s() - t0;
    stats_.cache_hits = cache_->hits();
    stats_.cache_misses = cache_->misses();
    stats_.cache_bytes = cache_->bytes();
    stats_.cache_entries = (int64_t)cache_->size();
  }
  for (auto& [job, e] : finals_) job->push(std::move(e));
  finals_.clear();
}

}  // namespace llamba::serve
