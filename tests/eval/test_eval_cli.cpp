// `llamba eval` as users run it: clear errors for bad files and flags (the runs over real text are in
// test_eval_cli_slow.cpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "eval/eval_cli_fixture.h"

namespace llamba {
namespace {

using test::EvalCli;

TEST_F(EvalCli, BadInputGivesClearErrors) {
  auto r = test::run_llamba("eval perplexity -m '" + model_ + "' -f /nonexistent/wiki.txt");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("/nonexistent/wiki.txt: cannot open"), std::string::npos) << r.out;
  const std::string short_text = test::temp_path("short.txt").string();
  std::ofstream(short_text) << "Just a few words.";
  r = test::run_llamba("eval perplexity -m '" + model_ + "' -f '" + short_text + "' -q");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("needs at least 1024"), std::string::npos) << r.out;
  r = test::run_llamba("eval perplexity -m '" + model_ + "' -f '" + wiki_ + "' -c 2");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("outside [4"), std::string::npos) << r.out;
  const std::string bad = test::temp_path("bad.jsonl").string();
  std::ofstream(bad) << "{\"text\": \"one two\"}\n{\"txt\": \"x y\"}\n";
  r = test::run_llamba("eval lambada -m '" + model_ + "' -f '" + bad + "' -q");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("bad.jsonl:2: missing string field \"text\""), std::string::npos) << r.out;
  r = test::run_llamba("eval blimp -m '" + model_ + "' -d '" + test::temp_dir().string() + "' -q");
  EXPECT_EQ(r.code, 1);  // the folder now holds bad.jsonl, which is no BLiMP file
  EXPECT_NE(r.out.find("bad.jsonl:1: missing string field \"sentence_good\""), std::string::npos) << r.out;
  const auto empty = test::temp_path("empty_dir");
  std::filesystem::create_directories(empty);
  r = test::run_llamba("eval blimp -m '" + model_ + "' -d '" + empty.string() + "' -q");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("no BLiMP files"), std::string::npos) << r.out;
  // A base model whose file has no tokenizer cannot be compared token by token.
  r = test::run_llamba("eval perplexity -m '" + model_ + "' --kl-base '" +
                       test::fixture_path("mamba2/groups2.llamacpp.gguf") + "' -f '" + wiki_ + "' -q");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("groups2.llamacpp.gguf"), std::string::npos) << r.out;
  r = test::run_llamba("eval");
  EXPECT_NE(r.code, 0);
}

}  // namespace
}  // namespace llamba
