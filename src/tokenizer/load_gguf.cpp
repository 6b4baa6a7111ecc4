// The tokenizer embedded in a GGUF file (`tokenizer.ggml.*`, llama.cpp's keys): tokens in the byte-level
// alphabet (special and user-defined tokens as raw text), token types, ranked merges "left right", special
// ids and the pre-tokenizer name. Works on vocabulary-only files (no tensors).
#include <fmt/format.h>

#include "core/check.h"
#include "io/gguf.h"
#include "tokenizer/model.h"
#include "tokenizer/pretokenizer.h"

namespace llamba::tokenizer {

namespace {

int32_t optional_id(const io::GgufFile& f, const std::string& key, int32_t n_vocab) {
  const io::GgufValue* v = f.find(key);
  if (!v) return -1;
  const int64_t id = v->as_int(key);
  LLAMBA_ENSURE(id >= -1 && id < n_vocab, "{}: {} = {} is outside the vocabulary (size {})", f.path(), key, id,
                n_vocab);
  return (int32_t)id;
}

TokenizerModel read_gguf_tokenizer(const io::GgufFile& f) {
  const std::string& path = f.path();
  LLAMBA_ENSURE(f.has("tokenizer.ggml.model"), "{}: no tokenizer in this GGUF file (missing tokenizer.ggml.model)",
                path);
  const std::string kind = f.get_string("tokenizer.ggml.model");
  LLAMBA_ENSURE(kind == "gpt2", "{}: tokenizer.ggml.model is '{}'; only 'gpt2' (byte-level BPE) is supported", path,
                kind);
  TokenizerModel m;
  m.path = path;
  m.format = "gguf";

  m.pre_name = f.get_string("tokenizer.ggml.pre", "");
  LLAMBA_ENSURE(!m.pre_name.empty(), "{}: missing tokenizer.ggml.pre (the pre-tokenizer type)", path);
  m.pre_patterns = pre_patterns_for(m.pre_name);
  LLAMBA_ENSURE(!m.pre_patterns.empty(),
                "{}: tokenizer.ggml.pre '{}' is not supported (supported: llama-bpe, gpt-2, smollm, starcoder, refact)",
                path, m.pre_name);
  // llama.cpp emits a piece that is itself a token whole only for Llama-3 (as tiktoken does).
  m.ignore_merges = m.pre_name == "llama-bpe";

  const auto& tokens = f.require("tokenizer.ggml.tokens").as_strings("tokenizer.ggml.tokens");
  LLAMBA_ENSURE(!tokens.empty() && tokens.size() < (1u << 24), "{}: tokenizer.ggml.tokens has {} entries", path,
                tokens.size());
  std::vector<int64_t> types;
  if (f.has("tokenizer.ggml.token_type")) {
    types = f.require("tokenizer.ggml.token_type").as_ints("tokenizer.ggml.token_type");
    LLAMBA_ENSURE(types.size() == tokens.size(), "{}: tokenizer.ggml.token_type has {} entries for {} tokens", path,
                  types.size(), tokens.size());
  }
  const int32_t n = (int32_t)tokens.size();
  m.vocab.resize(n);
  for (int32_t id = 0; id < n; ++id) {
    const int64_t t = types.empty() ? 1 : types[id];
    LLAMBA_ENSURE(t >= 0 && t <= 6, "{}: tokenizer.ggml.token_type[{}] = {} is not a token type", path, id, t);
    const auto type = (TokenType)t;
    if (type == TokenType::kNormal || type == TokenType::kUndefined || type == TokenType::kByte) {
      const auto bytes = byte_level_decode(tokens[id]);
      m.vocab.set(id, bytes ? *bytes : tokens[id], TokenType::kNormal, true);
    } else {
      m.vocab.set(id, tokens[id], type, false);  // raw text, never produced by merges
    }
  }

  const auto& merges = f.require("tokenizer.ggml.merges").as_strings("tokenizer.ggml.merges");
  m.merges.reserve(merges.size());
  auto id_of = [&](std::string_view s) {
    const auto b = byte_level_decode(s);
    return b ? m.vocab.find(*b) : -1;
  };
  for (size_t i = 0; i < merges.size(); ++i) {
    const size_t sp = merges[i].find(' ', 1);  // the left part may itself be a lone space in odd vocabularies
    LLAMBA_ENSURE(sp != std::string::npos, "{}: tokenizer.ggml.merges[{}] = '{}' is not 'left right'", path, i,
                  merges[i].substr(0, 60));
    m.merges.emplace_back(id_of(std::string_view(merges[i]).substr(0, sp)),
                          id_of(std::string_view(merges[i]).substr(sp + 1)));
  }

  m.bos = optional_id(f, "tokenizer.ggml.bos_token_id", n);
  m.eos = optional_id(f, "tokenizer.ggml.eos_token_id", n);
  m.eot = optional_id(f, "tokenizer.ggml.eot_token_id", n);
  m.eom = optional_id(f, "tokenizer.ggml.eom_token_id", n);
  m.pad = optional_id(f, "tokenizer.ggml.padding_token_id", n);
  m.unk = optional_id(f, "tokenizer.ggml.unknown_token_id", n);
  // SmolLM2's vocabulary lacks 21 byte tokens (0x04, 0x06, …, 0xFF). transformers' GGUF conversion builds
  // BPE(unk_token, fuse_unk=True), so a run of such bytes becomes one unk; llama.cpp has no answer (its
  // byte lookup fails). We follow transformers.
  m.fuse_unk = true;
  m.add_bos = f.get_bool("tokenizer.ggml.add_bos_token", false);
  m.chat_template = f.get_string("tokenizer.chat_template", "");
  collect_eog(m);
  return m;
}

}  // namespace

TokenizerModel load_gguf(const io::GgufFile& f) {
  try {
    return read_gguf_tokenizer(f);
  } catch (const Error& e) {
    // The typed accessors name the key but not the file ("metadata key tokenizer.ggml.model: expected a string").
    if (std::string_view(e.what()).starts_with(f.path())) throw;
    core::rethrow_with_context(f.path() + ": ", e);
  }
}

}  // namespace llamba::tokenizer
