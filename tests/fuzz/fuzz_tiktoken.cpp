// tiktoken rank files (tokenizer/load_tiktoken.cpp): "<base64 token> <rank>" lines. Only Meta's 128,000-rank
// Llama-3 file is accepted whole, so most inputs end in an error; what this exercises is the line parser
// (base64, ranks, duplicates) that runs over every line before that check.
#include <optional>

#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_checks.h"

using namespace llamba;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr const char* kName = "fuzz/tokenizer.model";
  std::optional<tokenizer::TokenizerModel> m;
  if (!fuzz::expect_clean(
          [&] { m.emplace(tokenizer::load_tiktoken(std::string_view(reinterpret_cast<const char*>(data), size), kName)); },
          kName))
    return 0;
  tokenizer::Tokenizer t(std::move(*m));
  fuzz::check_tokenizer(t, "Hello, world! 12345", "tiktoken");
  return 0;
}
