// GateLoop through the `llamba` binary users run (tests/cli_util.h): `llamba convert` of a lucidrains
// fixture checkpoint (with `--tokenizer`: the fixtures' byte-level tokenizer, id = byte, as the 256-token
// models expect), `llamba info`, and `llamba run` greedy: the prompt and its 16 generated tokens (read back from
// `--save-state`) must equal the package's argmax continuation of the same bytes.
#include <filesystem>
#include <string>

#include "cli_util.h"
#include "io/gguf.h"
#include "io/safetensors.h"

namespace llamba {
namespace {

using test::CliResult;

using test::run_llamba;

TEST(GateLoopCli, ConvertThenInfo) {
  if (test::llamba_bin().empty()) GTEST_SKIP() << "llamba binary not built";
  const std::string out = test::temp_path("gateloop_cli_heads4.gguf").string();
  const CliResult conv = run_llamba("convert '" + test::fixture_path("gateloop/heads4") + "' -o '" + out + "'");
  ASSERT_EQ(conv.code, 0) << conv.out;
  const CliResult info = run_llamba("info '" + out + "' --metadata");
  ASSERT_EQ(info.code, 0) << info.out;
  EXPECT_NE(info.out.find("architecture:  gateloop"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("gateloop.transition"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("constant in context"), std::string::npos) << info.out;
  const CliResult q8 =
      run_llamba("convert '" + test::fixture_path("gateloop/heads4") + "' --outtype q8_0 -o '" + out + "'");
  ASSERT_EQ(q8.code, 0) << q8.out;
  EXPECT_EQ(run_llamba("info '" + out + "'").code, 0);
}

class GateLoopRun : public ::testing::TestWithParam<std::string> {};

TEST_P(GateLoopRun, GreedyRunMatchesThePackage) {
  if (test::llamba_bin().empty()) GTEST_SKIP() << "llamba binary not built";
  const std::string name = GetParam();
  const std::string model = test::temp_path("gateloop_run_" + name + ".gguf").string(), state = model + ".state";
  const CliResult conv = run_llamba("convert '" + test::fixture_path("gateloop/" + name) + "' --tokenizer '" +
                                 test::fixture_path("gateloop/bytes/tokenizer.json") + "' -o '" + model + "'");
  ASSERT_EQ(conv.code, 0) << conv.out;
  const auto ref = io::SafetensorsFile::open(test::fixture_path("gateloop/" + name + "/reference.safetensors"));
  const auto prompt = ref.to_i64("cli_prompt_ids"), greedy = ref.to_i64("cli_greedy_ids");
  const std::string text(prompt.begin(), prompt.end());  // id = byte value
  const CliResult r = run_llamba("run -m '" + model + "' -p '" + text + "' -n " + std::to_string(greedy.size()) +
                              " --temp 0 -t 2 --save-state '" + state + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind(text, 0), 0u) << "the prompt is echoed first: " << r.out;
  std::vector<int64_t> want(prompt.begin(), prompt.end());
  want.insert(want.end(), greedy.begin(), greedy.end());
  const auto f = io::GgufFile::open(state);
  EXPECT_EQ(f.require("state.tokens").as_ints("state.tokens"), want) << name;
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, GateLoopRun,
                         ::testing::Values("heads4", "max_heads", "sub_ln_inner", "no_gate", "ablate_complex"));

}  // namespace
}  // namespace llamba
