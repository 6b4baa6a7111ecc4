// Llama-3 tokenizer: tokenizer.model (tiktoken) and tokenizer.json (HF) against the tiktoken / tokenizers
// fixtures on every corpus chunk and on the hard set; the two sources agree with each other.
#include "tokenizer/tokenizer_test_util.h"

namespace llamba::test {
namespace {

using tokenizer::Tokenizer;

class Llama3Corpus : public ::testing::TestWithParam<std::string> {};

TEST_P(Llama3Corpus, TiktokenFileMatchesFixture) {
  const auto fx = open_fixture("llama3");
  const Tokenizer& t = get_tokenizer(Tok::kLlama3Tiktoken);
  check_corpus(fx, GetParam(), "llama3 tokenizer.model", [&](std::string_view s) { return t.encode(s, false, false); });
}

TEST_P(Llama3Corpus, TokenizerJsonMatchesFixture) {
  const auto fx = open_fixture("llama3");
  const Tokenizer& t = get_tokenizer(Tok::kLlama3Json);
  check_corpus(fx, GetParam(), "llama3 tokenizer.json", [&](std::string_view s) { return t.encode(s, false, false); });
}

INSTANTIATE_TEST_SUITE_P(All, Llama3Corpus, ::testing::ValuesIn(corpus_names()));

TEST(Llama3, FixtureReferencesAgreed) {
  // The generator ran tiktoken and HF tokenizers over every chunk; it records any disagreement.
  const auto fx = open_fixture("llama3");
  EXPECT_EQ(fx.metadata().at("disagreements"), "{}");
}

TEST(Llama3, HardSetTiktoken) { check_hard_set(get_tokenizer(Tok::kLlama3Tiktoken), "llama3_tiktoken", "tiktoken"); }
TEST(Llama3, HardSetTokenizerJson) { check_hard_set(get_tokenizer(Tok::kLlama3Json), "llama3_hf", "json"); }

TEST(Llama3, KnownVectors) {
  // docs/models.md §"Tokenizer".
  for (const Tok k : {Tok::kLlama3Tiktoken, Tok::kLlama3Json}) {
    const Tokenizer& t = get_tokenizer(k);
    EXPECT_EQ(t.encode("This is a test sentence.", false, false),
              (std::vector<int32_t>{2028, 374, 264, 1296, 11914, 13}));
    EXPECT_EQ(t.encode("Hello world", false, false), (std::vector<int32_t>{9906, 1917}));
    EXPECT_EQ(t.encode(" Hello world", true, false), (std::vector<int32_t>{128000, 22691, 1917}));
  }
}

TEST(Llama3, SpecialIds) {
  for (const Tok k : {Tok::kLlama3Tiktoken, Tok::kLlama3Json}) {
    const Tokenizer& t = get_tokenizer(k);
    EXPECT_EQ(t.vocab_size(), 128256);
    EXPECT_EQ(t.bos_id(), 128000);
    EXPECT_EQ(t.eos_id(), 128001);
    EXPECT_TRUE(t.is_eog(128001));
    EXPECT_TRUE(t.is_eog(128009));
    EXPECT_FALSE(t.is_eog(128000));
    EXPECT_FALSE(t.is_eog(13));
    EXPECT_EQ(t.chat_format(), tokenizer::ChatFormat::kLlama3);
    EXPECT_EQ(t.token_bytes(128009), "<|eot_id|>");
    EXPECT_EQ(t.encode("<|eot_id|>", false, true), (std::vector<int32_t>{128009}));
    EXPECT_GT(t.encode("<|eot_id|>", false, false).size(), 1u);  // plain text
  }
  // tokenizer.model follows Llama 3.1's names; this tokenizer.json keeps Meta-Llama-3's.
  EXPECT_TRUE(get_tokenizer(Tok::kLlama3Tiktoken).is_eog(128008));
  EXPECT_EQ(get_tokenizer(Tok::kLlama3Tiktoken).token_bytes(128008), "<|eom_id|>");
  EXPECT_EQ(get_tokenizer(Tok::kLlama3Json).token_bytes(128008), "<|reserved_special_token_4|>");
}

TEST(Llama3, TiktokenAndJsonAgreeOnHardSet) {
  const Tokenizer& a = get_tokenizer(Tok::kLlama3Tiktoken);
  const Tokenizer& b = get_tokenizer(Tok::kLlama3Json);
  for (const auto& c : hard_set().at("cases")) {
    const std::string text = c.at("text");
    EXPECT_EQ(a.encode(text, true, false), b.encode(text, true, false)) << c.at("name");
  }
}

}  // namespace
}  // namespace llamba::test
