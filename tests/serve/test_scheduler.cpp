// Scheduler: continuous batching gives every request the output it gets alone; the state cache resumes
// prefixes (whole prompts, every snapshot interval, finished generations) with the cold run's output;
// cancellation frees slots; budgets, context limits and logprobs. On a tiny random Llamba with SmolLM2's tokenizer.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/generate.h"
#include "runtime/session.h"
#include "serve/state_cache.h"
#include "serve_test_util.h"

namespace llamba {
namespace {

using serve::Scheduler;
using serve::SchedulerOptions;
using test::drain;
using test::greedy;

SchedulerOptions options(int parallel, int64_t cache_bytes = 64 << 20) {
  SchedulerOptions o;
  o.parallel = parallel;
  o.cache_bytes = cache_bytes;
  return o;
}

std::vector<int32_t> prompt_of(const tokenizer::Tokenizer& tok, int i) {
  return tok.encode("Request " + std::to_string(i) + " asks about " + std::string(i % 7 + 1, 'x') + " things", true, false);
}

TEST(Scheduler, GreedyOutputAmong64OthersEqualsAloneAndGenerate) {
  LLAMBA_NEED_TINY_SERVE_MODEL(m);
  ops::Context ctx(2);
  constexpr int kN = 64;
  std::vector<std::string> alone(kN);
  {
    Scheduler one(*m->model, *m->tok, ctx, options(1, 0));  // one at a time, no cache
    for (int i = 0; i < kN; ++i) alone[i] = drain(*one.submit(prompt_of(*m->tok, i), greedy(10))).text;
  }
  Scheduler many(*m->model, *m->tok, ctx, options(kN));
  std::vector<std::shared_ptr<serve::Job>> jobs;
  for (int i = 0; i < kN; ++i) jobs.push_back(many.submit(prompt_of(*m->tok, i), greedy(10)));
  for (int i = 0; i < kN; ++i) {
    const test::JobResult r = drain(*jobs[i]);
    EXPECT_EQ(r.text, alone[i]) << "request " << i;
    EXPECT_EQ(r.finish_reason, "length");
    EXPECT_EQ(r.usage.completion_tokens, 10);
  }
  EXPECT_EQ(many.stats().active, 0);
  // The same text as runtime::generate (what `llamba run --temp 0` prints).
  for (int i : {0, 5}) {
    runtime::Session s(*m->model, ctx);
    runtime::GenerateOptions g;
    g.max_tokens = 10;
    g.sampling.temperature = 0;
    g.ignore_eos = true;
    std::string text;
    runtime::generate(s, *m->tok, prompt_of(*m->tok, i), g, [&](std::string_view p) { return text += p, true; });
    EXPECT_EQ(text, alone[i]) << "request " << i;
  }
}

TEST(Scheduler, SecondTurnPrefillsOnlyTheNewTokensAndEqualsAColdRun) {
  LLAMBA_NEED_TINY_SERVE_MODEL(m);
  ops::Context ctx(2);
  Scheduler warm(*m->model, *m->tok, ctx, options(2));
  const std::vector<int32_t> turn1 = prompt_of(*m->tok, 3);
  const test::JobResult r1 = drain(*warm.submit(turn1, greedy(6)));
  // The first turn's state was cached after the prompt and after 5 of the 6 tokens (the last is never run).
  std::vector<int32_t> turn2 = turn1;
  const std::vector<int32_t> reply = m->tok->encode(r1.text, false, false);
  turn2.insert(turn2.end(), reply.begin(), reply.end());
  const std::vector<int32_t> more = m->tok->encode(" and then?", false, false);
  turn2.insert(turn2.end(), more.begin(), more.end());
  const test::JobResult r2 = drain(*warm.submit(turn2, greedy(8)));
  const auto st = warm.stats();
  EXPECT_GE(r2.usage.cached_tokens, (int64_t)turn1.size()) << "the second turn must resume from the first";
  EXPECT_EQ(st.prefilled_tokens, (int64_t)(turn1.size() + turn2.size()) - r2.usage.cached_tokens);
  EXPECT_GE(st.cache_hits, 1);
  Scheduler cold(*m->model, *m->tok, ctx, options(1, 0));
  EXPECT_EQ(drain(*cold.submit(turn2, greedy(8))).text, r2.text);
}

TEST(Scheduler, RecurrentPromptsAreSnapshottedEveryInterval) {
  LLAMBA_NEED_TINY_SERVE_MODEL(m);
  ops::Context ctx(2);
  SchedulerOptions o = options(1);
  o.snapshot_interval = 16;
  o.prefill_per_step = 64;
  Scheduler s(*m->model, *m->tok, ctx, o);
  std::vector<int32_t> a(40), b(40);
  for (int i = 0; i < 40; ++i) a[i] = b[i] = 100 + i;
  for (int i = 35; i < 40; ++i) b[i] = 900 + i;  // shares 35 tokens with a
  drain(*s.submit(a, greedy(1)));
  const test::JobResult r = drain(*s.submit(b, greedy(4)));
  EXPECT_EQ(r.usage.cached_tokens, 32) << "the snapshot at 32 tokens is the longest shared prefix";
  Scheduler cold(*m->model, *m->tok, ctx, options(1, 0));
  EXPECT_EQ(drain(*cold.submit(b, greedy(4))).text, r.text);
}

TEST(Scheduler, CancelledRequestsFreeTheirSlot) {
  LLAMBA_NEED_TINY_SERVE_MODEL(m);
  ops::Context ctx(2);
  Scheduler s(*m->model, *m->tok, ctx, options(1));
  auto endless = s.submit(prompt_of(*m->tok, 1), greedy(1 << 30));
  serve::Event e;
  ASSERT_TRUE(endless->next(e));
  endless->cancel();
  EXPECT_EQ(drain(*endless).finish_reason, "cancelled");
  const test::JobResult r = drain(*s.submit(prompt_of(*m->tok, 2), greedy(3)));  // gets the only slot
  EXPECT_EQ(r.finish_reason, "length");
  EXPECT_EQ(s.stats().active, 0);
}

TEST(Scheduler, BudgetsContextAndLogprobs) {
  LLAMBA_NEED_TINY_SERVE_MODEL(m);
  ops::Context ctx(2);
  SchedulerOptions o = options(2);
  o.context = 24;
  Scheduler s(*m->model, *m->tok, ctx, o);
  std::vector<int32_t> p(20, 300);
  const test::JobResult full = drain(*s.submit(p, greedy(100)));
  EXPECT_EQ(full.finish_reason, "length");
  EXPECT_EQ(full.usage.completion_tokens, 5) << "20 prompt tokens + 4 run + the 5th sampled at the context end";
  EXPECT_EQ(drain(*s.submit(p, greedy(0))).usage.completion_tokens, 0);
  EXPECT_THROW(s.submit(std::vector<int32_t>(25, 300), greedy(1)), Error);
  EXPECT_THROW(s.submit({}, greedy(1)), Error);
  auto lp = greedy(4);
  lp.top_logprobs = 3;
  const test::JobResult r = drain(*s.submit(prompt_of(*m->tok, 4), lp));
  ASSERT_EQ(r.logprobs.size(), 4u);
  for (const auto& t : r.logprobs) {
    ASSERT_EQ(t.top.size(), 3u);
    EXPECT_EQ(t.top[0].first, t.id) << "greedy takes the most likely token";
    EXPECT_FLOAT_EQ(t.top[0].second, t.logprob);
    EXPECT_LE(t.logprob, 0.0f);
    EXPECT_GE(t.top[0].second, t.top[1].second);
    EXPECT_GE(t.top[1].second, t.top[2].second);
  }
}

TEST(StateCache, LongestPrefixWinsAndLeastRecentlyUsedIsEvicted) {
  LLAMBA_NEED_TINY_SERVE_MODEL(m);
  const auto st = m->model->new_state();
  const std::vector<float> logits(8, 0.5f);
  const int64_t one = serve::StateCache::Entry{{1, 2}, st->clone(), logits}.bytes();
  serve::StateCache c(3 * one);  // room for three entries of two tokens
  c.put(std::vector<int32_t>{1, 2}, *st, logits);
  c.put(std::vector<int32_t>{1, 3}, *st, logits);
  c.put(std::vector<int32_t>{2, 2}, *st, logits);
  EXPECT_EQ(c.size(), 3u);
  const std::vector<int32_t> q = {1, 2, 9};
  ASSERT_NE(c.longest_prefix(q), nullptr);  // {1, 2} is now the most recent
  EXPECT_EQ(c.longest_prefix(q)->tokens, (std::vector<int32_t>{1, 2}));
  c.put(std::vector<int32_t>{3, 3}, *st, logits);  // evicts {1, 3}, the least recently used
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.longest_prefix(std::vector<int32_t>{1, 3}), nullptr);
  EXPECT_NE(c.longest_prefix(std::vector<int32_t>{2, 2, 5}), nullptr);
  EXPECT_LE(c.bytes(), c.budget());
  EXPECT_EQ(c.hits(), 3);
  EXPECT_EQ(c.misses(), 1);
  serve::StateCache none(one - 1);
  none.put(std::vector<int32_t>{1, 2}, *st, logits);  // larger than the whole budget: not stored
  EXPECT_EQ(none.size(), 0u);
}

}  // namespace
}  // namespace llamba
