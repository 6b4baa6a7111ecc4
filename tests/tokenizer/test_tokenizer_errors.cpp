// Bad tokenizer files give llamba::Error naming the file and the line or field; encoding never fails on
// any input bytes.
#include "tokenizer/tokenizer_test_util.h"

namespace llamba::test {
namespace {

using namespace llamba::tokenizer;

template <class Fn>
void expect_error(Fn&& fn, std::initializer_list<const char*> parts) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one mentioning " << *parts.begin();
  } catch (const Error& e) {
    for (const char* p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

std::string write_temp(const std::string& name, const std::string& content) {
  const std::string path = temp_path(name);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(content.data(), 1, content.size(), f);
  std::fclose(f);
  return path;
}

TEST(TokenizerErrors, Tiktoken) {
  expect_error([] { load_tiktoken("IQ== 0\nIg==\n", "t.model"); }, {"t.model:2", "expected"});
  expect_error([] { load_tiktoken("IQ== 0\nI*g= 1\n", "t.model"); }, {"t.model:2", "bad base64"});
  expect_error([] { load_tiktoken("IQ== 0\nIg== x1\n", "t.model"); }, {"t.model:2", "bad rank"});
  expect_error([] { load_tiktoken("IQ== 0\nIg== 0\n", "t.model"); }, {"t.model:2", "duplicate rank"});
  expect_error([] { load_tiktoken("IQ== 0\nIQ== 1\n", "t.model"); }, {"t.model:2", "duplicate token"});
  expect_error([] { load_tiktoken("IQ== 0\nIg== 1\n", "t.model"); }, {"t.model", "only the Llama-3"});
  // A truncated copy of the real file.
  const std::string real = read_binary(repo_path("data/tokenizers/llama3/tokenizer.model"));
  expect_error([&] { load_tiktoken(real.substr(0, real.size() / 2), "half.model"); }, {"half.model"});
  expect_error([&] { load_tiktoken(real.substr(0, 1000), "cut.model"); }, {"cut.model"});
}

TEST(TokenizerErrors, TokenizerJson) {
  expect_error([] { load_hf_json("{not json", "a.json", ""); }, {"a.json", "not valid JSON"});
  expect_error([] { load_hf_json(R"({"version": "1.0"})", "b.json", ""); }, {"b.json", "model"});
  expect_error([] { load_hf_json(R"({"model": {"type": "WordPiece", "vocab": {}}})", "c.json", ""); },
               {"c.json", "model.type", "WordPiece"});
  const std::string base = R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": )";
  expect_error([&] { load_hf_json(base + R"({"type": "Whitespace"}})", "d.json", ""); },
               {"d.json", "pre_tokenizer.type", "Whitespace"});
  expect_error(
      [&] {
        load_hf_json(base + R"({"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Removed"}})", "e.json", "");
      },
      {"e.json", "pre_tokenizer.behavior"});
  expect_error([&] { load_hf_json(base + R"(null})", "f.json", ""); }, {"f.json", "ByteLevel"});
  expect_error(
      [&] {
        load_hf_json(base + R"({"type": "ByteLevel"}, "added_tokens": [{"id": 1, "content": "<m>", "lstrip": true}]})",
                     "g.json", "");
      },
      {"g.json", "added_tokens[0].lstrip"});
  expect_error(
      [&] {
        const auto m = load_hf_json(base + R"({"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern":
        {"Regex": "(bad"}, "behavior": "Isolated"}, {"type": "ByteLevel", "use_regex": false}]}})",
                                    "h.json", "");
        Tokenizer t(m);
      },
      {"h.json", "bad pre-tokenizer regex"});
}

TEST(TokenizerErrors, Gguf) {
  io::GgufWriter w;
  w.set("general.architecture", io::GgufValue::string("llama"));
  w.write(temp_path("no_tok.gguf"));
  expect_error([] { Tokenizer::load(temp_path("no_tok.gguf")); }, {"no_tok.gguf", "tokenizer.ggml.model"});
  const io::GgufFile smol = smollm2_gguf();
  expect_error(
      [&] {
        gguf_with(smol, {{"tokenizer.ggml.pre", io::GgufValue::string("qwen2")}}, "pre.gguf");
      },
      {"pre.gguf", "tokenizer.ggml.pre", "qwen2"});
  expect_error(
      [&] {
        gguf_with(smol, {{"tokenizer.ggml.model", io::GgufValue::string("llama")}}, "spm.gguf");
      },
      {"spm.gguf", "tokenizer.ggml.model", "llama"});
  expect_error(
      [&] {
        gguf_with(smol, {{"tokenizer.ggml.bos_token_id", io::GgufValue::u32(99999)}}, "bos.gguf");
      },
      {"bos.gguf", "tokenizer.ggml.bos_token_id"});
  expect_error(
      [&] {
        gguf_with(smol, {{"tokenizer.ggml.token_type", io::GgufValue::i32_array({1, 1})}}, "tt.gguf");
      },
      {"tt.gguf", "tokenizer.ggml.token_type"});
  expect_error(
      [&] {
        gguf_with(smol, {{"tokenizer.ggml.merges", io::GgufValue::string_array({"nospace"})}}, "m.gguf");
      },
      {"m.gguf", "tokenizer.ggml.merges[0]"});
}

TEST(TokenizerErrors, MissingFileAndDetection) {
  expect_error([] { Tokenizer::load("/nonexistent/tokenizer.model"); }, {"/nonexistent/tokenizer.model", "not found"});
  const std::string p = write_temp("garbage.bin", std::string("\x01\x02\x03 garbage\n", 12));
  expect_error([&] { Tokenizer::load(p); }, {"garbage.bin"});
  const std::string truncated = write_temp("trunc.gguf", "GGUF\x03\x00\x00\x00");
  expect_error([&] { Tokenizer::load(truncated); }, {"trunc.gguf"});
}

TEST(TokenizerErrors, WriteGgufNeedsAPreName) {
  const std::string json = R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer":
      {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"String": "x"}, "behavior": "Isolated"},
      {"type": "ByteLevel", "use_regex": false}]}})";
  const Tokenizer t(load_hf_json(json, "custom.json", ""));
  EXPECT_EQ(t.encode("axa", false, false), (std::vector<int32_t>{0, 0}));  // 'x' has no token and no unk: dropped
  io::GgufWriter w;
  expect_error([&] { t.write_gguf_metadata(w); }, {"custom.json", "no GGUF name"});
}

}  // namespace
}  // namespace llamba::test
