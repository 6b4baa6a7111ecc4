// HF tokenizer_config.json (read by tokenizer/load_hf_json.cpp beside tokenizer.json: bos/eos names and the
// chat template, a string or a list of named templates). The tokenizer.json is fixed (a small Llama-3-style
// vocabulary with its special tokens, tests/fuzz/data/); the input is the config. Whatever loads must build,
// pick a chat format and render a conversation.
#include <optional>

#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_checks.h"

using namespace llamba;

namespace {

const std::string& fixed_tokenizer_json() {
  static const std::string text = [] {
    std::ifstream in(fuzz::repo_file("tests/fuzz/data/tokenizer_small.json"), std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (s.empty()) fuzz::fail("tests/fuzz/data/tokenizer_small.json is missing");
    return s;
  }();
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr const char* kName = "fuzz/tokenizer.json";
  const std::string_view config(reinterpret_cast<const char*>(data), size);
  std::optional<tokenizer::TokenizerModel> m;
  if (!fuzz::expect_clean([&] { m.emplace(tokenizer::load_hf_json(fixed_tokenizer_json(), kName, config)); }, kName))
    return 0;
  tokenizer::Tokenizer t(std::move(*m));
  (void)t.chat_defaults();
  fuzz::check_chat(t, "What is 2 + 2?", "tokenizer_config.json");
  FUZZ_ASSERT(t.bos_id() < t.vocab_size() && t.eos_id() < t.vocab_size(), "bos/eos outside the vocabulary");
  return 0;
}
