// The HTTP server on 127.0.0.1 (a free port), through cpp-httplib's client: completions and chat as JSON and as
// Server-Sent Events (the same text; [DONE]; usage), every error case (400 naming the field, 401, 404, 413,
// prompt over the context) with the server still serving after each, a client that disconnects mid-stream
// freeing its slot, metrics, tokenize / detokenize, state save / load into a fresh server, the chat page.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "serve/server.h"
#include "serve_test_util.h"

namespace llamba {
namespace {

using nlohmann::json;

struct Running {
  Running(const test::TinyServeModel& m, serve::ServerOptions o, int64_t context = 0) : ctx(2) {
    serve::SchedulerOptions so;
    so.parallel = 8;
    so.context = context;
    sched = std::make_unique<serve::Scheduler>(*m.model, *m.tok, ctx, so);
    o.port = 0;
    o.model_id = "tiny";
    o.drain_seconds = 1;
    server = std::make_unique<serve::Server>(*m.model, *m.tok, *sched, o);
    port = server->bind();
    thread = std::thread([this] { server->listen(); });
  }
  ~Running() {
    server->stop();
    thread.join();
  }
  httplib::Client client(const std::string& key = "") const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60);
    if (!key.empty()) c.set_bearer_token_auth(key);
    return c;
  }
  ops::Context ctx;
  std::unique_ptr<serve::Scheduler> sched;
  std::unique_ptr<serve::Server> server;
  int port = 0;
  std::thread thread;
};

httplib::Result post(httplib::Client& c, const std::string& path, const json& body) {
  return c.Post(path, body.dump(), "application/json");
}

// The concatenated text and the parsed data lines of an SSE body.
std::pair<std::string, std::vector<json>> parse_sse(const std::string& body, bool chat) {
  std::string text;
  std::vector<json> events;
  size_t at = 0;
  for (size_t end; (end = body.find("\n\n", at)) != std::string::npos; at = end + 2) {
    const std::string line = body.substr(at, end - at);
    EXPECT_EQ(line.rfind("data: ", 0), 0u) << line;
    if (line == "data: [DONE]") {
      events.push_back("[DONE]");
      continue;
    }
    json j = json::parse(line.substr(6));
    if (!j["choices"].empty()) {
      const json& c = j["choices"][0];
      text += chat ? c["delta"].value("content", "") : c["text"].get<std::string>();
    }
    events.push_back(j);
  }
  EXPECT_EQ(at, body.size()) << "a partial event at the end";
  return {text, events};
}

TEST(Server, CompletionsAndChatStreamedEqualNotStreamed) {
  LLAMBA_NEED_TINY_SERVE_MODEL(m);
  Running s(*m, {});
  auto c = s.client();
  for (bool chat : {false, true}) {
    SCOPED_TRACE(chat ? "chat" : "completions");
    json req = {{"model", "tiny"}, {"max_tokens", 12}, {"temperature", 0}, {"ignore_eos", true}};
    if (chat) req["messages"] = {{{"role", "user"}, {"content", "Hello there"}}};
    else req["prompt"] = "Once upon a time";
    const std::string path = chat ? "/v1/chat/completions" : "/v1/completions";
    auto r = post(c, path, req);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json j = json::parse(r->body);
    const std::string text = chat ? j["choices"][0]["message"]["content"].get<std::string>()
                                  : j["choices"][0]["text"].get<std::string>();
    EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
    EXPECT_EQ(j["usage"]["completion_tokens"], 12);
    EXPECT_EQ(j["object"], chat ? "chat.completion" : "text_completion");
    req["stream"] = true;
    req["stream_options"] = {{"include_usage", true}};
    auto rs = post(c, path, req);
    ASSERT_TRUE(rs);
    ASSERT_EQ(rs->status, 200);
    EXPECT_EQ(rs->get_header_value("Content-Type"), "text/event-stream");
    const auto [stext, events] = parse_sse(rs->body, chat);
    EXPECT_EQ(stext, text);
    ASSERT_GE(events.size(), 3u);
    EXPECT_EQ(events.back(), "[DONE]");
    const json& usage = events[events.size() - 2];
    EXPECT_TRUE(usage["choices"].empty());
    EXPECT_EQ(usage["usage"]["completion_tokens"], 12);
    EXPECT_EQ(events[events.size() - 3]["choices"][0]["finish_reason"], "length");
    if (chat) {
      EXPECT_EQ(events[0]["choices"][0]["delta"]["role"], "assistant");
    }
  }
}

TEST(Server, StopStringsAndLogprobs) {
  LLAMBA_NEED_TINY_SERVE_MODEL(m);
  Running s(*m, {});
  auto c = s.client();
  json req = {{"prompt", "Once upon a time"}, {"max_tokens", 12}, {"temperature", 0}, {"ignore_eos", true}};
  const std::string full = json::parse(post(c, "/v1/completions", req)->body)["choices"][0]["text"];
  ASSERT_GE(full.size(), 4u);
  const std::string stop = full.substr(full.size() / 2, 2);
  req["stop"] = {stop};
  const json j = json::parse(post(c, "/v1/completions", req)->body);
  EXPECT_EQ(j["choices"][0]["text"], full.substr(0, full.find(stop)));
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  req.erase("stop");
  req["logprobs"] = 2;
  const json lp = json::parse(post(c, "/v1/completions", req)->body)["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), 12u);
  ASSERT_EQ(lp["top_logprobs"][0].size(), 2u);
  EXPECT_LE(lp["token_logprobs"][0].get<double>(), 0.0);
}

TEST(Server, BadRequestsGetOpenAiErrorsAndTheServerKeepsServing) {
  LLAMBA_NEED_TINY_SERVE_MODEL(m);
  serve::ServerOptions o;
  o.max_body_bytes = 4096;
  Running s(*m, o, /*context=*/64);
  auto c = s.client();
  auto expect_error = [&](httplib::Result r, int status, const std::string& param) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    const json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << r->body;
    EXPECT_TRUE(j["error"]["message"].is_string());
    if (!param.empty()) {
      EXPECT_EQ(j["error"]["param"], param) << r->body;
    }
  };
  expect_error(c.Post("/v1/completions", "{\"prompt\": ", "application/json"), 400, "");
  expect_error(c.Post("/v1/completions", "[1, 2]", "application/json"), 400, "");
  expect_error(post(c, "/v1/completions", {{"max_tokens", 3}}), 400, "prompt");
  expect_error(post(c, "/v1/completions", {{"prompt", "x"}, {"temperature", "hot"}}), 400, "temperature");
  expect_error(post(c, "/v1/completions", {{"prompt", "x"}, {"top_p", 1.5}}), 400, "top_p");
  expect_error(post(c, "/v1/completions", {{"prompt", "x"}, {"max_tokens", -2}}), 400, "max_tokens");
  expect_error(post(c, "/v1/completions", {{"prompt", "x"}, {"n", 2}}), 400, "n");
  expect_error(post(c, "/v1/completions", {{"prompt", "x"}, {"stop", 5}}), 400, "stop");
  expect_error(post(c, "/v1/chat/completions", {{"messages", json::array()}}), 400, "messages");
  expect_error(post(c, "/v1/chat/completions", {{"messages", {{{"content", "hi"}}}}}), 400, "messages[0].role");
  expect_error(post(c, "/v1/completions", {{"prompt", "x"}, {"model", "gpt-4"}}), 404, "model");
  expect_error(post(c, "/v1/completions", {{"prompt", std::string(300, 'a') + " b c d e f g h i j k l m n o p q r s t u v w x y z"}}),
               400, "prompt");  // over the 64-token context
  expect_error(c.Post("/v1/completions", std::string(5000, ' '), "application/json"), 413, "");
  expect_error(c.Get("/v1/nothing"), 404, "");
  expect_error(post(c, "/detokenize", {{"tokens", {-1}}}), 400, "tokens");
  auto ok = post(c, "/v1/completions", {{"prompt", "still here"}, {"max_tokens", 2}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(c.Get("/health")->status, 200);
}

TEST(Server, ApiKeyIsRequiredWhenSet) {
  LLAMBA_NEED_TINY_SERVE_MODEL(m);
  serve::ServerOptions o;
  o.api_key = "sekrit";
  Running s(*m, o);
  auto anon = s.client(), wrong = s.client("nope"), right = s.client("sekrit");
  EXPECT_EQ(anon.Get("/v1/models")->status, 401);
  EXPECT_EQ(wrong.Get("/v1/models")->status, 401);
  EXPECT_EQ(json::parse(wrong.Get("/v1/models")->body)["error"]["type"], "authentication_error");
  EXPECT_EQ(right.Get("/v1/models")->status, 200);
  EXPECT_EQ(anon.Get("/health")->status, 200);
  EXPECT_EQ(anon.Get("/")->status, 200);
}

TEST(Server, AClientThatDisconnectsMidStreamFreesItsSlot) {
  LLAMBA_NEED_TINY_SERVE_MODEL(m);
  Running s(*m, {});
  auto c = s.client();
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = json{{"prompt", "Tell me everything"}, {"max_tokens", 1 << 30}, {"ignore_eos", true}, {"stream", true}}.dump();
  req.set_header("Content-Type", "application/json");
  int chunks = 0;
  req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 3; };
  c.send(req);  // returns once the receiver gave up and the connection closed
  EXPECT_GE(chunks, 3);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (s.sched->stats().active > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(s.sched->stats().active, 0) << "the abandoned stream still holds its slot";
  const std::string metrics = c.Get("/metrics")->body;
  EXPECT_NE(metrics.find("llamba_active_sequences 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("# TYPE llamba_requests_total counter"), std::string::npos);
}

TEST(Server, TokenizeDetokenizeModelsAndThePage) {
  LLAMBA_NEED_TINY_SERVE_MODEL(m);
  Running s(*m, {});
  auto c = s.client();
  const json t = json::parse(post(c, "/tokenize", {{"content", "Hello world"}})->body);
  EXPECT_EQ(t["tokens"].get<std::vector<int32_t>>(), m->tok->encode("Hello world", false, false));
  EXPECT_EQ(json::parse(post(c, "/detokenize", {{"tokens", t["tokens"]}})->body)["content"], "Hello world");
  const json models = json::parse(c.Get("/v1/models")->body);
  EXPECT_EQ(models["data"][0]["id"], "tiny");
  EXPECT_EQ(models["data"][0]["meta"]["recurrent"], true);
  const auto page = c.Get("/");
  EXPECT_NE(page->body.find("/v1/chat/completions"), std::string::npos);
  EXPECT_EQ(page->body.find("http://"), std::string::npos) << "the page must make no external requests";
}

TEST(Server, SavedStatesResumeInAFreshServer) {
  LLAMBA_NEED_TINY_SERVE_MODEL(m);
  serve::ServerOptions o;
  o.state_dir = test::temp_path("states").string();
  std::filesystem::create_directories(o.state_dir);
  const json conv = {{"role", "user"}, {"content", "Remember the number 42."}};
  int64_t n = 0;
  {
    Running s(*m, o);
    auto c = s.client();
    auto r = post(c, "/v1/state/save", {{"name", "conv1"}, {"messages", {conv}}});
    ASSERT_EQ(r->status, 200) << r->body;
    n = json::parse(r->body)["n_tokens"];
    EXPECT_GT(n, 0);
    EXPECT_EQ(post(c, "/v1/state/save", {{"name", "../escape"}, {"prompt", "x"}})->status, 400);
  }
  Running s(*m, o);
  auto c = s.client();
  EXPECT_EQ(post(c, "/v1/state/load", {{"name", "missing"}})->status, 404);
  auto r = post(c, "/v1/state/load", {{"name", "conv1"}});
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["n_tokens"], n);
  const json reply = json::parse(post(c, "/v1/chat/completions", {{"messages", {conv}}, {"max_tokens", 3}})->body);
  EXPECT_EQ(reply["usage"]["prompt_tokens_details"]["cached_tokens"], n) << reply.dump();
}

}  // namespace
}  // namespace llamba
