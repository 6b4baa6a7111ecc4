// GPT-2 byte-level BPE (tokenizer.json built by HF tokenizers from OpenAI's files) against the tokenizers /
// tiktoken fixtures on every corpus chunk and on the hard set.
#include "tokenizer/tokenizer_test_util.h"

namespace llamba::test {
namespace {

class Gpt2Corpus : public ::testing::TestWithParam<std::string> {};

TEST_P(Gpt2Corpus, TokenizerJsonMatchesFixture) {
  const auto fx = open_fixture("gpt2");
  const auto& t = get_tokenizer(Tok::kGpt2Json);
  check_corpus(fx, GetParam(), "gpt2", [&](std::string_view s) { return t.encode(s, false, false); });
}

INSTANTIATE_TEST_SUITE_P(All, Gpt2Corpus, ::testing::ValuesIn(corpus_names()));

TEST(Gpt2, FixtureReferencesAgreed) { EXPECT_EQ(open_fixture("gpt2").metadata().at("disagreements"), "{}"); }

TEST(Gpt2, HardSet) {
  check_hard_set(get_tokenizer(Tok::kGpt2Json), "gpt2_hf", "gpt2 vs tokenizers");
  check_hard_set(get_tokenizer(Tok::kGpt2Json), "gpt2_tiktoken", "gpt2 vs tiktoken");
}

TEST(Gpt2, Basics) {
  const auto& t = get_tokenizer(Tok::kGpt2Json);
  EXPECT_EQ(t.vocab_size(), 50257);
  EXPECT_EQ(t.bos_id(), -1);  // GPT-2's tokenizer.json adds no BOS
  EXPECT_EQ(t.eos_id(), 50256);
  EXPECT_TRUE(t.is_eog(50256));
  EXPECT_FALSE(t.bpe().ignore_merges());
  EXPECT_EQ(t.encode("Hello world", true, false), (std::vector<int32_t>{15496, 995}));
  EXPECT_EQ(t.encode("<|endoftext|>", false, true), (std::vector<int32_t>{50256}));
}

}  // namespace
}  // namespace llamba::test
