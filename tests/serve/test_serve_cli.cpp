// `llamba serve` as users start it: it prints its port, answers, refuses bad flags, and on SIGTERM finishes
// the stream in flight and exits 0.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "serve_test_util.h"

extern char** environ;

namespace llamba {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ServeCli, AnswersThenDrainsOnSigtermAndExitsZero) {
  LLAMBA_NEED_TINY_SERVE_MODEL(m);
  const std::string bin = test::llamba_bin(), log = test::temp_path("serve.log").string();
  ASSERT_FALSE(bin.empty());
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> args = {bin, "serve", "-m", m->path, "--port", "0", "-t", "1", "--drain-seconds", "30"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  int port = 0;
  const std::regex re("on http://127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 500 && port == 0; ++i) {
    std::smatch mt;
    const std::string text = slurp(log);
    if (std::regex_search(text, mt, re)) port = std::stoi(mt[1]);
    else std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(port, 0) << slurp(log);
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60);
  EXPECT_EQ(c.Get("/health")->status, 200);
  // A stream of 200 tokens in flight when SIGTERM comes: it is finished, not cut.
  std::string streamed;
  std::thread client([&] {
    httplib::Client c2("127.0.0.1", port);
    c2.set_read_timeout(60);
    auto r = c2.Post("/v1/completions",
                     nlohmann::json{{"prompt", "Go on"}, {"max_tokens", 200}, {"ignore_eos", true}, {"stream", true}}.dump(),
                     "application/json");
    if (r) streamed = r->body;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  kill(pid, SIGTERM);
  client.join();
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(log);
  EXPECT_NE(streamed.find("\"finish_reason\":\"length\""), std::string::npos) << streamed.substr(0, 400);
  EXPECT_NE(streamed.find("data: [DONE]"), std::string::npos);
  EXPECT_NE(slurp(log).find("SIGTERM"), std::string::npos);
}

TEST(ServeCli, BadFlagsAreNamed) {
  const auto r = test::run_llamba("serve --port 70000");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("70000 is outside [0, 65535]"), std::string::npos) << r.out;
  const auto r2 = test::run_llamba("serve -m /nonexistent/model.gguf");
  EXPECT_NE(r2.code, 0);
  EXPECT_NE(r2.out.find("/nonexistent/model.gguf"), std::string::npos) << r2.out;
}

}  // namespace
}  // namespace llamba
