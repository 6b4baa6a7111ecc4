// `llamba eval` as users run it: JSON output, KL of the default model against itself, and clear errors for bad
// files and flags.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "cli_util.h"

namespace llamba {
namespace {

class EvalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test::llamba_bin().empty()) GTEST_SKIP() << "llamba binary not built";
    model_ = test::default_model_path();
    if (model_.empty()) GTEST_SKIP() << "default model not installed: run scripts/setup.sh";
  }
  std::string model_;
  const std::string wiki_ = test::source_dir() + "/data/corpus/wikitext2_test.txt.xz";
};

TEST_F(EvalCli, KlAgainstItselfIsZeroInJson) {
  const auto r = test::run_llamba("eval perplexity -m '" + model_ + "' --kl-base '" + model_ + "' -f '" + wiki_ +
                                  "' -c 64 --chunks 3 -q --json 2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["chunks"], 3);
  EXPECT_EQ(j["scored_tokens"], 3 * 31);
  EXPECT_EQ(j["kl"]["mean"]["value"], 0.0);
  EXPECT_EQ(j["kl"]["same_top"]["value"], 1.0);
  EXPECT_EQ(j["kl"]["ppl_diff"]["value"], 0.0);
  EXPECT_EQ(j["running"].size(), 3u);
}

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

TEST_F(EvalCli, LambadaAndBlimpTables) {
  auto r = test::run_llamba("eval lambada -m '" + model_ + "' -f '" + test::source_dir() +
                            "/data/eval/lambada/lambada_test.jsonl.xz' --limit 4 -q");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("(4 passages"), std::string::npos) << r.out;
  r = test::run_llamba("eval blimp -m '" + model_ + "' -d '" + test::source_dir() + "/data/eval/blimp' --limit 1 -q");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("(67 paradigms, 67 pairs)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| island_effects"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace llamba
