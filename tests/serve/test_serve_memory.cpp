// The server's memory budget on a KV-cache model (SmolLM2): requests reserve the KV cache they can grow to; one
// that could never fit is refused (the scheduler's OverMemoryBudget, an OpenAI-style 400 naming max_tokens over
// HTTP) while the server keeps serving; the others wait until enough is free, so the active sequences' caches
// never exceed the budget. serve::server_memory_need and request_state_budget split the limit.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "runtime/memory_budget.h"
#include "serve/memory_need.h"
#include "serve/server.h"
#include "serve_test_util.h"

namespace llamba {
namespace {

using nlohmann::json;

struct SmolLM2 {
  std::unique_ptr<io::GgufFile> file;
  std::unique_ptr<models::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tok;
};

const SmolLM2* smollm2() {
  static std::unique_ptr<SmolLM2> m = [] {
    std::unique_ptr<SmolLM2> r;
    if (test::default_model_path().empty()) return r;
    r = std::make_unique<SmolLM2>();
    r->file = std::make_unique<io::GgufFile>(io::GgufFile::open(test::default_model_path()));
    r->model = models::load_model(*r->file);
    r->tok = tokenizer::Tokenizer::from_gguf(*r->file);
    return r;
  }();
  return m.get();
}

#define NEED_SMOLLM2(m)                  \
  const SmolLM2* m = smollm2();          \
  if (!m) GTEST_SKIP() << "the default model is not installed: scripts/get_model.sh"

// Room for two sequences of up to 64 tokens (a KV cache of 64 rows each), not three.
serve::SchedulerOptions two_sequences(const models::Model& model) {
  serve::SchedulerOptions o;
  o.parallel = 4;
  o.state_budget = 2 * runtime::sequence_state_bytes(model, 64) + 1;
  o.budget_source = "--max-memory (test)";
  return o;
}

TEST(ServeMemory, ARequestThatCouldNeverFitIsRefusedTheOthersWaitTheirTurn) {
  NEED_SMOLLM2(m);
  ops::Context ctx(2);
  serve::Scheduler s(*m->model, *m->tok, ctx, two_sequences(*m->model));
  const std::vector<int32_t> prompt = m->tok->encode("Once upon a time", true, false);
  try {
    s.submit(prompt, test::greedy(10000));  // min(prompt + 10000, the 8192-token context)
    FAIL() << "not refused";
  } catch (const serve::OverMemoryBudget& e) {
    const std::string msg = e.what();
    const int64_t bytes =
        runtime::sequence_state_bytes(*m->model, 8192) + runtime::sequence_growth_bytes(*m->model, 8192);
    EXPECT_NE(msg.find("the request needs " + runtime::format_bytes(bytes) + " of KV cache for 8192 tokens"),
              std::string::npos) << msg;
    EXPECT_NE(msg.find("+ max_tokens 10000"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--max-memory (test)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("HINT: lower max_tokens"), std::string::npos) << msg;
  }
  serve::GenParams unbounded = test::greedy(-1);  // until the context's end
  EXPECT_THROW(s.submit(prompt, unbounded), serve::OverMemoryBudget);
  // Three that fit one or two at a time: at most two active at once, the third queued meanwhile.
  std::vector<std::shared_ptr<serve::Job>> jobs;
  for (int i = 0; i < 3; ++i) jobs.push_back(s.submit(prompt, test::greedy(50)));
  int64_t most_active = 0, most_queued = 0;
  std::thread watch([&] {
    for (int i = 0; i < 20000; ++i) {
      const serve::SchedulerStats st = s.stats();
      most_active = std::max(most_active, st.active);
      most_queued = std::max(most_queued, st.queued);
      if (st.requests == 3 && st.active == 0 && st.queued == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::vector<test::JobResult> results;
  for (auto& j : jobs) results.push_back(test::drain(*j));
  watch.join();
  EXPECT_EQ(most_active, 2);
  EXPECT_GE(most_queued, 1);
  for (const auto& r : results) {
    EXPECT_EQ(r.finish_reason, "length") << r.error;
    EXPECT_EQ(r.usage.completion_tokens, 50);
    EXPECT_EQ(r.text, results[0].text) << "the same greedy request, alone or waiting";
  }
}

TEST(ServeMemory, OverHttpARefusalIsA400NamingMaxTokensAndTheServerKeepsServing) {
  NEED_SMOLLM2(m);
  ops::Context ctx(2);
  serve::Scheduler sched(*m->model, *m->tok, ctx, two_sequences(*m->model));
  serve::ServerOptions o;
  o.port = 0;
  o.model_id = "smol";
  o.drain_seconds = 1;
  serve::Server server(*m->model, *m->tok, sched, o);
  const int port = server.bind();
  std::thread t([&] { server.listen(); });
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60);
  auto r = c.Post("/v1/completions", json{{"prompt", "Once upon a time"}, {"max_tokens", 5000}}.dump(),
                  "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  const json err = json::parse(r->body)["error"];
  EXPECT_EQ(err["param"], "max_tokens");
  EXPECT_EQ(err["type"], "invalid_request_error");
  EXPECT_NE(err["message"].get<std::string>().find("of KV cache for 5004 tokens (a 4-token prompt + max_tokens 5000)"), std::string::npos) << err;
  r = c.Post("/v1/completions", json{{"prompt", "Once upon a time"}, {"max_tokens", 4}, {"temperature", 0}}.dump(),
             "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  server.stop();
  t.join();
}

TEST(ServeMemory, TheLimitLeavesTheRequestsWhatTheRestDoesNotTake) {
  NEED_SMOLLM2(m);
  serve::SchedulerOptions o;
  o.parallel = 4;
  o.cache_bytes = 256 << 20;
  const runtime::MemoryNeed need = serve::server_memory_need(*m->model, o);
  EXPECT_TRUE(need.kv_cache);
  EXPECT_EQ(need.states, runtime::sequence_state_bytes(*m->model, 8192)) << "one sequence of the whole context";
  EXPECT_EQ(need.extra, 256 << 20);
  const int64_t rest = need.total() - need.states - need.state_growth;
  EXPECT_EQ(serve::request_state_budget(*m->model, need, runtime::memory_limit("4G")), (int64_t(4) << 30) - rest);
  EXPECT_EQ(serve::request_state_budget(*m->model, need, {0, false, "unknown"}), 0) << "no limit, no budget";
  // Against the machine only what is known counts: the allowance stays with the requests.
  const runtime::MemoryLimit machine{int64_t(4) << 30, false, "machine"};
  EXPECT_EQ(serve::request_state_budget(*m->model, need, machine), (int64_t(4) << 30) - rest + need.fixed);
}

}  // namespace
}  // namespace llamba
