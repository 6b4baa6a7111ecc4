// HF tokenizer.json loader (tokenizer/load_hf_json.cpp) with an optional sibling tokenizer_config.json: the input
// is tokenizer.json, then (after a NUL byte, if any) tokenizer_config.json. Whatever loads becomes a Tokenizer
// (regexes compiled, merges built) that must encode and decode a fixed multilingual sample losslessly, render
// its chat template, and survive export to GGUF metadata and back with the same ids.
#include <optional>

#include "fuzz_util.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_checks.h"

using namespace llamba;

namespace {

constexpr const char* kName = "fuzz/tokenizer.json";
constexpr std::string_view kSample =
    "Hello, world! It's 2024: 12345 apples\n\n  indented\ttab <|endoftext|><|im_start|><|eot_id|> "
    "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\x98\x80 \xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A "
    "don't WE'LL \xFF\xFE broken";

// The GGUF export of `t` (what `llamba convert` embeds) loads back and encodes the sample to the same ids, when
// GGUF can hold the tokenizer's settings: it has no keys for ignore_merges and fuse_unk, which readers derive
// (ignore_merges only for the llama-bpe pre-tokenizer, unknown bytes always fused, as llama.cpp does).
void check_gguf_export(const tokenizer::Tokenizer& t) {
  const tokenizer::TokenizerModel& m = t.model();
  if (m.ignore_merges != (m.pre_name == "llama-bpe") || (m.unk >= 0 && !m.fuse_unk)) return;
  io::GgufWriter w;
  if (!fuzz::expect_clean([&] { t.write_gguf_metadata(w); })) return;
  const io::GgufFile g = io::GgufFile::parse(w.write_to_memory(), "export.gguf");
  std::unique_ptr<tokenizer::Tokenizer> back;
  if (!fuzz::expect_clean([&] { back = tokenizer::Tokenizer::from_gguf(g); }, "export.gguf")) return;
  for (const bool special : {false, true})
    FUZZ_ASSERT(back->encode(kSample, false, special) == t.encode(kSample, false, special),
                "the GGUF export of the tokenizer encodes the sample differently (parse_special={})", special);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = fuzz::split_nul(std::string_view(reinterpret_cast<const char*>(data), size), 2);
  std::optional<tokenizer::TokenizerModel> m;
  if (!fuzz::expect_clean(
          [&] { m.emplace(tokenizer::load_hf_json(parts[0], kName, parts.size() > 1 ? parts[1] : "")); }, kName))
    return 0;
  std::unique_ptr<tokenizer::Tokenizer> t;
  if (!fuzz::expect_clean([&] { t = std::make_unique<tokenizer::Tokenizer>(std::move(*m)); }, kName)) return 0;
  fuzz::check_tokenizer(*t, kSample, "tokenizer.json");
  fuzz::check_chat(*t, "Hi there", "tokenizer.json");
  check_gguf_export(*t);
  return 0;
}
