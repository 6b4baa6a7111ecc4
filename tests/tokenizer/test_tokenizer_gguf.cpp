// Tokenizer -> GGUF metadata -> Tokenizer: a vocabulary-only GGUF written from tokenizer.model,
// tokenizer.json or another GGUF re-loads and tokenizes every corpus chunk like the original.
#include "tokenizer/tokenizer_test_util.h"

namespace llamba::test {
namespace {

using namespace llamba::tokenizer;

std::unique_ptr<Tokenizer> export_and_reload(const Tokenizer& t, const std::string& name) {
  io::GgufWriter w;
  w.set("general.architecture", io::GgufValue::string("llama"));
  t.write_gguf_metadata(w);
  const std::string path = temp_path(name);
  w.write(path);
  return Tokenizer::load(path);
}

TEST(GgufExport, TiktokenSourceReloadsIdentically) {
  const Tokenizer& src = get_tokenizer(Tok::kLlama3Tiktoken);
  const auto t = export_and_reload(src, "llama3_from_tiktoken.gguf");
  EXPECT_EQ(t->model().format, "gguf");
  EXPECT_EQ(t->model().pre_name, "llama-bpe");
  EXPECT_EQ(t->vocab_size(), 128256);
  EXPECT_EQ(t->bpe().merge_count(), 280147u);
  EXPECT_EQ(t->bos_id(), 128000);
  EXPECT_EQ(t->eos_id(), 128001);
  EXPECT_TRUE(t->add_bos_default());
  EXPECT_TRUE(t->is_eog(128009) && t->is_eog(128008) && t->is_eog(128001));
  EXPECT_EQ(t->token_type(128009), TokenType::kControl);
  EXPECT_EQ(t->chat_format(), ChatFormat::kLlama3);
  for (int32_t id = 0; id < t->vocab_size(); ++id) ASSERT_EQ(t->token_bytes(id), src.token_bytes(id)) << id;
  const auto fx = open_fixture("llama3");
  for (const auto& name : corpus_names())
    check_corpus(fx, name, "llama3 via GGUF", [&](std::string_view s) { return t->encode(s, false, false); });
  check_hard_set(*t, "llama3_tiktoken", "llama3 via GGUF");
}

TEST(GgufExport, TokenizerJsonSourceReloadsIdentically) {
  const auto t = export_and_reload(get_tokenizer(Tok::kGpt2Json), "gpt2_from_json.gguf");
  EXPECT_EQ(t->model().pre_name, "gpt-2");
  EXPECT_FALSE(t->bpe().ignore_merges());
  const auto fx = open_fixture("gpt2");
  for (const auto& name : corpus_names())
    check_corpus(fx, name, "gpt2 via GGUF", [&](std::string_view s) { return t->encode(s, false, false); });
  check_hard_set(*t, "gpt2_hf", "gpt2 via GGUF");
}

TEST(GgufExport, GgufSourceRoundTripsItsMetadata) {
  const io::GgufFile orig = smollm2_gguf();
  const Tokenizer& src = get_tokenizer(Tok::kSmolLM2);
  io::GgufWriter w;
  src.write_gguf_metadata(w);
  const std::string path = temp_path("smollm2_again.gguf");
  w.write(path);
  const io::GgufFile again = io::GgufFile::open(path);
  for (const char* key : {"tokenizer.ggml.tokens", "tokenizer.ggml.merges"})
    EXPECT_EQ(again.require(key).as_strings(key), orig.require(key).as_strings(key)) << key;
  EXPECT_EQ(again.require("tokenizer.ggml.token_type").as_ints("t"),
            orig.require("tokenizer.ggml.token_type").as_ints("t"));
  for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                          "tokenizer.ggml.padding_token_id", "tokenizer.ggml.unknown_token_id"})
    EXPECT_EQ(again.get_int(key), orig.get_int(key)) << key;
  EXPECT_EQ(again.get_string("tokenizer.chat_template"), orig.get_string("tokenizer.chat_template"));
  EXPECT_EQ(again.get_string("tokenizer.ggml.pre"), "smollm");
  EXPECT_EQ(again.tensors().size(), 0u);
  check_hard_set(*Tokenizer::from_gguf(again), "smollm2", "smollm2 again");
}

}  // namespace
}  // namespace llamba::test
