// `llamba eval` over real text with the default model, as users run it: JSON output and KL of the model against
// itself, LAMBADA and BLiMP tables. Labelled slow (whole forwards of the real model): not in the sanitizer pass.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "eval/eval_cli_fixture.h"

namespace llamba {
namespace {

using test::EvalCli;

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
