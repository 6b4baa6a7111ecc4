// SmolLM2's tokenizer from its (vocabulary-only) GGUF: pre "smollm" (digits split, as SmolLM2's
// tokenizer.json and llama.cpp do) against transformers' GGUF conversion given that pre-tokenizer, and
// pre "gpt-2" against transformers' conversion exactly as it ships (it drops the digit split).
#include "tokenizer/tokenizer_test_util.h"

namespace llamba::test {
namespace {

class SmolLM2Corpus : public ::testing::TestWithParam<std::string> {};

TEST_P(SmolLM2Corpus, GgufMatchesFixture) {
  const auto fx = open_fixture("smollm2");
  const auto& t = get_tokenizer(Tok::kSmolLM2);
  check_corpus(fx, GetParam(), "smollm2", [&](std::string_view s) { return t.encode(s, false, false); });
}

TEST_P(SmolLM2Corpus, Gpt2PreMatchesTransformersAsShipped) {
  const auto fx = open_fixture("smollm2_transformers");
  const auto& t = get_tokenizer(Tok::kSmolLM2Transformers);
  check_corpus(fx, GetParam(), "smollm2 pre=gpt-2", [&](std::string_view s) { return t.encode(s, false, false); });
}

INSTANTIATE_TEST_SUITE_P(All, SmolLM2Corpus, ::testing::ValuesIn(corpus_names()));

TEST(SmolLM2, HardSet) {
  check_hard_set(get_tokenizer(Tok::kSmolLM2), "smollm2", "smollm2");
  check_hard_set(get_tokenizer(Tok::kSmolLM2Transformers), "smollm2_transformers", "smollm2 pre=gpt-2");
}

TEST(SmolLM2, Metadata) {
  const auto& t = get_tokenizer(Tok::kSmolLM2);
  EXPECT_EQ(t.vocab_size(), 49152);
  EXPECT_EQ(t.bos_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_FALSE(t.add_bos_default());
  EXPECT_TRUE(t.is_eog(2));  // <|im_end|>
  EXPECT_TRUE(t.is_eog(0));  // <|endoftext|>
  EXPECT_FALSE(t.is_eog(1));
  EXPECT_EQ(t.chat_format(), tokenizer::ChatFormat::kChatMl);
  EXPECT_EQ(t.model().pre_name, "smollm");
  EXPECT_EQ(t.bpe().merge_count(), 48900u);
  // Digits are split one by one, even after a space.
  EXPECT_EQ(t.encode("a 2024", false, false), t.encode("a 2024", false, false));
  const auto ids = t.encode(" 2024", false, false);
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_EQ(t.token_bytes(ids[0]), " ");
}

TEST(SmolLM2, FullModelFileHasTheSameTokenizer) {
  // The 98 MB model is optional (scripts/setup.sh); its tokenizer must equal the vocabulary-only copy.
  const std::string path = default_model_path();
  if (path.empty()) GTEST_SKIP() << "SmolLM2 model not installed";
  const auto t = tokenizer::Tokenizer::load(path);
  const auto& ref = get_tokenizer(Tok::kSmolLM2);
  ASSERT_EQ(t->vocab_size(), ref.vocab_size());
  for (int32_t id = 0; id < t->vocab_size(); ++id) ASSERT_EQ(t->token_bytes(id), ref.token_bytes(id)) << id;
  check_hard_set(*t, "smollm2", "smollm2 model file");
}

}  // namespace
}  // namespace llamba::test
