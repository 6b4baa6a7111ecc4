// Helpers for the tokenizer tests: the committed tokenizer files and corpora (xz-decompressed in memory
// with the `xz` CLI), the fixture reader and the per-chunk comparison that reports the first mismatch.
// Tests never read ../shared: everything comes from data/ and tests/fixtures/tokenizer/.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/buffer.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace llamba::test {

inline std::string repo_path(const std::string& rel) { return source_dir() + "/" + rel; }

inline std::string read_binary(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::string s;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) s.append(buf, n);
  std::fclose(f);
  return s;
}

// Decompresses an .xz file with the xz command-line tool (xz-utils).
inline std::string read_xz(const std::string& path) {
  const std::string cmd = fmt::format("xz -dc '{}'", path);
  std::FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  std::string s;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) s.append(buf, n);
  if (pclose(p) != 0) throw std::runtime_error(cmd + " failed");
  return s;
}

inline uint64_t fnv1a64(const int32_t* ids, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ (uint32_t)ids[i]) * 0x100000001b3ull;
  return h;
}

// The tokenizers under test, loaded once per process.
enum class Tok { kLlama3Tiktoken, kLlama3Json, kGpt2Json, kSmolLM2, kSmolLM2Transformers };

inline const char* tok_name(Tok t) {
  switch (t) {
    case Tok::kLlama3Tiktoken:
      return "llama3 tokenizer.model";
    case Tok::kLlama3Json:
      return "llama3 tokenizer.json";
    case Tok::kGpt2Json:
      return "gpt2 tokenizer.json";
    case Tok::kSmolLM2:
      return "smollm2 gguf";
    default:
      return "smollm2 gguf, pre=gpt-2 (transformers)";
  }
}

// SmolLM2's vocabulary-only GGUF, in memory.
inline io::GgufFile smollm2_gguf() {
  const std::string data = read_xz(fixture_path("tokenizer/smollm2_vocab.gguf.xz"));
  auto buf = core::Buffer::allocate(data.size());
  std::memcpy(buf->data(), data.data(), data.size());
  return io::GgufFile::parse(buf, "smollm2_vocab.gguf");
}

// Loads a GGUF tokenizer after replacing some metadata (e.g. the pre-tokenizer name).
inline std::unique_ptr<tokenizer::Tokenizer> gguf_with(const io::GgufFile& f,
                                                       const std::map<std::string, io::GgufValue>& changes,
                                                       const std::string& tmp_name) {
  io::GgufWriter w;
  for (const auto& [k, v] : f.metadata())
    if (k != "general.alignment") w.set(k, changes.count(k) ? changes.at(k) : v);
  const std::string path = temp_path(tmp_name);
  w.write(path);
  return tokenizer::Tokenizer::load(path);
}

inline const tokenizer::Tokenizer& get_tokenizer(Tok t) {
  static std::mutex mu;
  static std::map<Tok, std::unique_ptr<tokenizer::Tokenizer>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[t];
  if (slot) return *slot;
  switch (t) {
    case Tok::kLlama3Tiktoken:
      slot = tokenizer::Tokenizer::load(repo_path("data/tokenizers/llama3/tokenizer.model"));
      break;
    case Tok::kLlama3Json:
      slot = std::make_unique<tokenizer::Tokenizer>(tokenizer::load_hf_json(
          read_xz(repo_path("data/tokenizers/llama3/tokenizer.json.xz")), "llama3/tokenizer.json",
          read_binary(repo_path("data/tokenizers/llama3/tokenizer_config.json"))));
      break;
    case Tok::kGpt2Json:
      slot = std::make_unique<tokenizer::Tokenizer>(tokenizer::load_hf_json(
          read_xz(repo_path("data/tokenizers/gpt2/tokenizer.json.xz")), "gpt2/tokenizer.json", ""));
      break;
    case Tok::kSmolLM2:
      slot = tokenizer::Tokenizer::from_gguf(smollm2_gguf());
      break;
    case Tok::kSmolLM2Transformers:
      slot = gguf_with(smollm2_gguf(), {{"tokenizer.ggml.pre", io::GgufValue::string("gpt-2")}}, "smollm2_gpt2.gguf");
      break;
  }
  return *slot;
}

// The committed corpora, decompressed once.
inline const std::string& corpus(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::string> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, read_xz(repo_path(fmt::format("data/corpus/{}.txt.xz", name)))).first;
  return it->second;
}

inline const std::vector<std::string>& corpus_names() {
  static const std::vector<std::string> names = {"wikitext2_test", "tinyshakespeare", "brown", "sotu"};
  return names;
}

constexpr int kFixtureFormat = 1;

inline io::SafetensorsFile open_fixture(const std::string& family) {
  auto f = io::SafetensorsFile::open(fixture_path(fmt::format("tokenizer/{}.safetensors", family)));
  const auto it = f.metadata().find("fixture_format");
  const int v = it == f.metadata().end() ? -1 : std::stoi(it->second);
  if (v != kFixtureFormat)
    throw std::runtime_error(
        fmt::format("{}: fixture_format {}, expected {}\n---> HINT: re-run "
                    "tools/reference/make_tokenizer_fixtures.py",
                    f.path(), v, kFixtureFormat));
  return f;
}

// Exact integer tensors of a fixture (SafetensorsFile::to_i64 goes through double, which 64-bit hashes
// do not survive).
inline std::vector<int64_t> fixture_ints(const io::SafetensorsFile& fx, const std::string& name) {
  const core::TensorView v = fx.tensor(name);
  std::vector<int64_t> out(v.numel());
  if (v.dtype == core::DType::kI64) {
    std::memcpy(out.data(), v.data, out.size() * 8);
  } else {
    if (v.dtype != core::DType::kI32) throw std::runtime_error(name + ": expected I32 or I64");
    const auto* p = static_cast<const int32_t*>(v.data);
    for (size_t i = 0; i < out.size(); ++i) out[i] = p[i];
  }
  return out;
}

inline std::string excerpt(std::string_view s, size_t n = 160) {
  std::string out;
  for (const char c : s.substr(0, n)) {
    if (c == '\n')
      out += "\\n";
    else if ((unsigned char)c < 0x20)
      out += fmt::format("\\x{:02x}", (unsigned char)c);
    else
      out += c;
  }
  return out;
}

// Tokenizes every chunk of `corpus_name` and compares count + hash (and the sampled ids) with the fixture.
// `encode` maps text to ids. Reports up to five mismatching chunks with their text and first differing id.
template <class Encode>
void check_corpus(const io::SafetensorsFile& fx, const std::string& corpus_name, const std::string& label,
                  const Encode& encode) {
  const std::string& text = corpus(corpus_name);
  const auto ends = fixture_ints(fx, corpus_name + ".chunk_ends");
  const auto counts = fixture_ints(fx, corpus_name + ".counts");
  const auto hashes = fixture_ints(fx, corpus_name + ".hashes");
  const auto sample_chunks = fixture_ints(fx, corpus_name + ".sample_chunks");
  const auto sample_offsets = fixture_ints(fx, corpus_name + ".sample_offsets");
  const auto sample_ids = fixture_ints(fx, corpus_name + ".sample_ids");
  ASSERT_EQ(ends.back(), (int64_t)text.size()) << corpus_name << ": corpus and fixture differ";
  std::map<int64_t, size_t> sampled;
  for (size_t s = 0; s < sample_chunks.size(); ++s) sampled[sample_chunks[s]] = s;
  int bad = 0;
  int64_t begin = 0;
  for (size_t c = 0; c < ends.size(); ++c) {
    const std::string_view chunk(text.data() + begin, ends[c] - begin);
    begin = ends[c];
    const std::vector<int32_t> ids = encode(chunk);
    const bool ok = (int64_t)ids.size() == counts[c] && fnv1a64(ids.data(), ids.size()) == (uint64_t)hashes[c];
    std::string detail;
    if (auto it = sampled.find((int64_t)c); it != sampled.end()) {
      const size_t s = it->second;
      for (int64_t k = sample_offsets[s]; k < sample_offsets[s + 1]; ++k) {
        const size_t i = k - sample_offsets[s];
        if (i >= ids.size() || ids[i] != sample_ids[k]) {
          detail = fmt::format(", first differing id at {}: expected {}, got {}", i, sample_ids[k],
                               i < ids.size() ? std::to_string(ids[i]) : "end");
          break;
        }
      }
      EXPECT_TRUE(detail.empty()) << label << " " << corpus_name << " chunk " << c << detail;
    }
    if (!ok && ++bad <= 5)
      ADD_FAILURE() << label << " " << corpus_name << " chunk " << c << " (bytes " << begin - chunk.size() << "+"
                    << chunk.size() << "): " << ids.size() << " ids, expected " << counts[c] << detail
                    << "\n  text: " << excerpt(chunk);
  }
  EXPECT_EQ(bad, 0) << label << " " << corpus_name << ": " << bad << " of " << ends.size() << " chunks differ";
}

// The hand-made hard set with the expected ids of each reference.
inline const nlohmann::json& hard_set() {
  static const nlohmann::json j = [] {
    auto v = nlohmann::json::parse(read_binary(fixture_path("tokenizer/hard_set.json")));
    if (v.at("fixture_format").get<int>() != kFixtureFormat) throw std::runtime_error("hard_set.json: fixture_format");
    return v;
  }();
  return j;
}

inline std::string ids_str(const std::vector<int32_t>& v, size_t max = 40) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max; ++i) {
    if (i) s += ' ';
    s += std::to_string(v[i]);
  }
  if (v.size() > max) s += " …";
  return s;
}

// Compares one reference's hard-set ids (plain, special, bos) with `tok`.
inline void check_hard_set(const tokenizer::Tokenizer& tok, const std::string& ref, const std::string& label) {
  const auto& hs = hard_set();
  const auto& exp = hs.at("expected").at(ref);
  const auto& cases = hs.at("cases");
  const int bos = exp.at("bos").get<int>();
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string name = cases[i].at("name"), text = cases[i].at("text");
    const auto plain = exp.at("plain")[i].get<std::vector<int32_t>>();
    const auto special = exp.at("special")[i].get<std::vector<int32_t>>();
    const auto got_plain = tok.encode(text, false, false);
    EXPECT_EQ(got_plain, plain) << label << " case " << name << " (plain)\n  text: " << excerpt(text)
                                << "\n  got:      " << ids_str(got_plain) << "\n  expected: " << ids_str(plain);
    const auto got_special = tok.encode(text, false, true);
    EXPECT_EQ(got_special, special) << label << " case " << name << " (special)\n  text: " << excerpt(text)
                                    << "\n  got:      " << ids_str(got_special) << "\n  expected: " << ids_str(special);
    auto with_bos = plain;
    if (bos >= 0) with_bos.insert(with_bos.begin(), bos);
    EXPECT_EQ(tok.encode(text, true, false), with_bos) << label << " case " << name << " (bos)";
  }
}

}  // namespace llamba::test
