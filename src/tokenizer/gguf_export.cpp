// Tokenizer -> GGUF metadata (`tokenizer.ggml.*`, `tokenizer.chat_template`), so that `llamba convert`
// embeds the tokenizer and Tokenizer::from_gguf() rebuilds it. tiktoken sources get derived merges.
#include <fmt/format.h>

#include <algorithm>

#include "core/check.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

namespace llamba::tokenizer {

std::vector<std::pair<int32_t, int32_t>> Tokenizer::merges_for_export() const {
  std::vector<std::pair<int32_t, int32_t>> out;
  if (m_.merge_source == MergeSource::kList) {
    for (const auto& [l, r] : m_.merges)
      if (l >= 0 && r >= 0) out.emplace_back(l, r);
    return out;
  }
  // tiktoken: every split of every token into two tokens, by the token's rank, then by the parts' ranks
  // (transformers' TikTokenConverter; it gives Llama-3's tokenizer.json merges exactly). One merge per
  // token, the split BPE reaches with lower ranks (llama.cpp's converter for Qwen), cannot work here: 678
  // Llama-3 tokens are not reachable by BPE over their own bytes.
  std::vector<std::pair<int32_t, int32_t>> local;
  for (int32_t id = 0; id < vocab_size(); ++id) {
    const std::string_view t = m_.vocab.bytes(id);
    if (t.size() < 2 || m_.vocab.find(t) != id) continue;
    local.clear();
    for (size_t k = 1; k < t.size(); ++k) {
      const int32_t l = m_.vocab.find(t.substr(0, k)), r = m_.vocab.find(t.substr(k));
      if (l >= 0 && r >= 0) local.emplace_back(l, r);
    }
    std::sort(local.begin(), local.end());
    out.insert(out.end(), local.begin(), local.end());
  }
  return out;
}

void Tokenizer::write_gguf_metadata(io::GgufWriter& w) const {
  LLAMBA_ENSURE(!m_.pre_name.empty(),
                "{}: this tokenizer's pre-tokenizer has no GGUF name (supported: llama-bpe, gpt-2, smollm)", m_.path);
  const int32_t n = vocab_size();
  std::vector<std::string> tokens(n);
  std::vector<int32_t> types(n);
  for (int32_t id = 0; id < n; ++id) {
    const TokenType t = m_.vocab.type(id);
    if (!m_.vocab.is_set(id)) {
      tokens[id] = fmt::format("[PAD{}]", id);  // a hole in the id range (llama.cpp's filler)
      types[id] = (int32_t)TokenType::kUnused;
    } else if (t == TokenType::kNormal) {
      tokens[id] = byte_level_encode(m_.vocab.bytes(id));
      types[id] = (int32_t)TokenType::kNormal;
    } else {
      tokens[id] = std::string(m_.vocab.bytes(id));
      types[id] = (int32_t)t;
    }
  }
  std::vector<std::string> merges;
  for (const auto& [l, r] : merges_for_export())
    merges.push_back(byte_level_encode(m_.vocab.bytes(l)) + " " + byte_level_encode(m_.vocab.bytes(r)));

  w.set("tokenizer.ggml.model", io::GgufValue::string("gpt2"));
  w.set("tokenizer.ggml.pre", io::GgufValue::string(m_.pre_name));
  w.set("tokenizer.ggml.tokens", io::GgufValue::string_array(std::move(tokens)));
  w.set("tokenizer.ggml.token_type", io::GgufValue::i32_array(types));
  w.set("tokenizer.ggml.merges", io::GgufValue::string_array(std::move(merges)));
  const std::pair<const char*, int32_t> ids[] = {
      {"tokenizer.ggml.bos_token_id", m_.bos},     {"tokenizer.ggml.eos_token_id", m_.eos},
      {"tokenizer.ggml.eot_token_id", m_.eot},     {"tokenizer.ggml.eom_token_id", m_.eom},
      {"tokenizer.ggml.padding_token_id", m_.pad}, {"tokenizer.ggml.unknown_token_id", m_.unk}};
  for (const auto& [key, id] : ids)
    if (id >= 0) w.set(key, io::GgufValue::u32((uint32_t)id));
  w.set("tokenizer.ggml.add_bos_token", io::GgufValue::boolean(m_.add_bos));
  const std::string tpl = m_.chat_template.empty() ? chat_template_jinja(chat_format_) : m_.chat_template;
  if (!tpl.empty()) w.set("tokenizer.chat_template", io::GgufValue::string(tpl));
}

}  // namespace llamba::tokenizer
