// The tokenizer embedded in a GGUF file (tokenizer/load_gguf.cpp: tokenizer.ggml.* keys, token types, ranked
// merges, special ids, the chat template). The input is a whole GGUF file; whatever loads must encode and
// decode a fixed sample losslessly and render its chat template.
#include <optional>

#include "fuzz_util.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_checks.h"

using namespace llamba;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr const char* kName = "fuzz-vocab.gguf";
  constexpr std::string_view kSample =
      "Hello, world! 12345 <|im_start|>user\n caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80 \xFF end";
  std::optional<io::GgufFile> f;
  if (!fuzz::expect_clean([&] { f.emplace(io::GgufFile::parse(fuzz::exact_buffer(data, size), kName)); }, kName))
    return 0;
  std::unique_ptr<tokenizer::Tokenizer> t;
  if (!fuzz::expect_clean([&] { t = tokenizer::Tokenizer::from_gguf(*f); }, kName)) return 0;
  fuzz::check_tokenizer(*t, kSample, "gguf vocabulary");
  fuzz::check_chat(*t, "Hi", "gguf vocabulary");
  return 0;
}
