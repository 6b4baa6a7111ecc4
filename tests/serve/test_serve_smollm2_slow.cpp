// The scheduler on the real default model (Llama, KV caches): 64 concurrent greedy requests give exactly what
// each gives alone and what runtime::generate (`llamba run --temp 0`) gives; a chat's second turn resumes
// from the cached first turn and equals a cold run.
#include <gtest/gtest.h>

#include "runtime/generate.h"
#include "runtime/session.h"
#include "serve_test_util.h"

namespace llamba {
namespace {

TEST(ServeSmolLM2, SixtyFourConcurrentRequestsEqualEachAloneAndGenerate) {
  const std::string path = test::default_model_path();
  if (path.empty()) GTEST_SKIP() << "default model not installed";
  const io::GgufFile file = io::GgufFile::open(path);
  const auto model = models::load_model(file);
  const auto tok = tokenizer::Tokenizer::from_gguf(file);
  ops::Context ctx(2);
  constexpr int kN = 64, kTokens = 6;
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < kN; ++i)
    prompts.push_back(tok->encode(tok->apply_chat_template({{"user", "Give me fact number " + std::to_string(i) + " about cats."}}, true), false, true));
  serve::SchedulerOptions one;
  one.parallel = 1;
  one.cache_bytes = 0;
  std::vector<std::string> alone(kN);
  {
    serve::Scheduler s(*model, *tok, ctx, one);
    for (int i = 0; i < kN; ++i) alone[i] = test::drain(*s.submit(prompts[i], test::greedy(kTokens))).text;
  }
  serve::SchedulerOptions many;
  many.parallel = kN;
  serve::Scheduler s(*model, *tok, ctx, many);
  std::vector<std::shared_ptr<serve::Job>> jobs;
  for (int i = 0; i < kN; ++i) jobs.push_back(s.submit(prompts[i], test::greedy(kTokens)));
  for (int i = 0; i < kN; ++i) EXPECT_EQ(test::drain(*jobs[i]).text, alone[i]) << "request " << i;
  for (int i : {0, 17}) {
    runtime::Session session(*model, ctx);
    runtime::GenerateOptions g;
    g.max_tokens = kTokens;
    g.sampling.temperature = 0;
    g.ignore_eos = true;
    std::string text;
    runtime::generate(session, *tok, prompts[i], g, [&](std::string_view p) { return text += p, true; });
    EXPECT_EQ(text, alone[i]) << "request " << i;
  }
  // Second turn of request 3's conversation, on a server that ran only the first (with 64 others, their
  // KV-cache snapshots would have pushed it out of the default budget).
  serve::Scheduler chat(*model, *tok, ctx, serve::SchedulerOptions{});
  EXPECT_EQ(test::drain(*chat.submit(prompts[3], test::greedy(kTokens))).text, alone[3]);
  std::vector<tokenizer::ChatMessage> conv = {{"user", "Give me fact number 3 about cats."}, {"assistant", alone[3]},
                                              {"user", "And another one?"}};
  const std::vector<int32_t> turn2 = tok->encode(tok->apply_chat_template(conv, true), false, true);
  const test::JobResult warm = test::drain(*chat.submit(turn2, test::greedy(kTokens)));
  EXPECT_GE(warm.usage.cached_tokens, (int64_t)prompts[3].size());
  serve::Scheduler cold(*model, *tok, ctx, one);
  EXPECT_EQ(test::drain(*cold.submit(turn2, test::greedy(kTokens))).text, warm.text);
}

}  // namespace
}  // namespace llamba
