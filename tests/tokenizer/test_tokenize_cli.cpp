// `llamba tokenize` / `llamba detokenize` as users run them (tests/cli_util.h finds the binary).
#include <algorithm>
#include <filesystem>

#include "cli_util.h"
#include "tokenizer/tokenizer_test_util.h"

namespace llamba::test {
namespace {

CliResult run(const std::string& args, const std::string& input) { return run_llamba(args, input); }

const std::string kModel = repo_path("data/tokenizers/llama3/tokenizer.model");

TEST(TokenizeCli, PrintsIdsOnOneLine) {
  if (llamba_bin().empty()) GTEST_SKIP() << "llamba binary not built";
  EXPECT_EQ(run("tokenize -t '" + kModel + "'", "This is a test sentence.").out, "2028 374 264 1296 11914 13\n");
  EXPECT_EQ(run("tokenize -t '" + kModel + "' --bos", " Hello world").out, "128000 22691 1917\n");
  EXPECT_EQ(run("tokenize -t '" + kModel + "' --special", "<|eot_id|>").out, "128009\n");
  EXPECT_NE(run("tokenize -t '" + kModel + "'", "<|eot_id|>").out, "128009\n");
  EXPECT_EQ(run("tokenize -t '" + kModel + "'", "").out, "\n");
}

TEST(TokenizeCli, DetokenizeReversesTokenize) {
  if (llamba_bin().empty()) GTEST_SKIP() << "llamba binary not built";
  const std::string text =
      "h\xC3\xA9llo \xF0\x9F\xA4\x97 w\xC3\xB6rld\n\n\tcode(x) // 123456\n\xE2\x82 raw";  // invalid UTF-8 too (SmolLM2
                                                                                          // lacks 0xFF: avoid it)
  const std::string gguf = temp_path("cli_smollm2.gguf");
  {
    const std::string d = read_xz(fixture_path("tokenizer/smollm2_vocab.gguf.xz"));
    std::FILE* f = std::fopen(gguf.c_str(), "wb");
    std::fwrite(d.data(), 1, d.size(), f);
    std::fclose(f);
  }
  const std::string json = temp_path("tokenizer.json");
  {
    const std::string d = read_xz(repo_path("data/tokenizers/gpt2/tokenizer.json.xz"));
    std::FILE* f = std::fopen(json.c_str(), "wb");
    std::fwrite(d.data(), 1, d.size(), f);
    std::fclose(f);
  }
  for (const std::string& file : {kModel, gguf, json}) {
    const CliResult ids = run("tokenize -t '" + file + "'", text);
    ASSERT_EQ(ids.code, 0) << ids.out;
    EXPECT_EQ(std::count(ids.out.begin(), ids.out.end(), '\n'), 1);
    const CliResult back = run("detokenize -t '" + file + "'", ids.out);
    ASSERT_EQ(back.code, 0) << back.out;
    EXPECT_EQ(back.out, text) << file;
  }
}

TEST(TokenizeCli, ConvertEmbedsTheCheckpointTokenizer) {
  // `llamba convert` calls models::add_tokenizer_if_present(): the GGUF it writes tokenizes like tokenizer.model.
  if (llamba_bin().empty()) GTEST_SKIP() << "llamba binary not built";
  const std::string dir = temp_path("convert_ckpt");
  std::filesystem::remove_all(dir);
  std::filesystem::copy(fixture_path("llama_hf/tiny_tied"), dir);
  std::filesystem::copy_file(kModel, dir + "/tokenizer.model");
  const std::string out = temp_path("converted.gguf");
  const CliResult c = run(fmt::format("convert '{}' -o '{}'", dir, out), "");
  ASSERT_EQ(c.code, 0) << c.out;
  EXPECT_EQ(run("tokenize -t '" + out + "' --bos", " Hello world").out, "128000 22691 1917\n");
  std::filesystem::remove_all(dir);
}

TEST(TokenizeCli, ErrorsNameTheFile) {
  if (llamba_bin().empty()) GTEST_SKIP() << "llamba binary not built";
  const CliResult r = run("tokenize -t /nonexistent/tok.model", "x");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("/nonexistent/tok.model"), std::string::npos) << r.out;
  const CliResult d = run("detokenize -t '" + kModel + "'", "1 2 999999");
  EXPECT_EQ(d.code, 1);
  EXPECT_NE(d.out.find("999999"), std::string::npos) << d.out;
}

}  // namespace
}  // namespace llamba::test
