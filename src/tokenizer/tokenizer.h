// Tokenizer: exact byte-level BPE for Llama-3 (tiktoken / tokenizer.json), GPT-2 / SmolLM2-style vocabularies
// and any GGUF-embedded `gpt2` tokenizer: encode, decode, special tokens, chat templates, GGUF export.
// Pipeline: added tokens are cut out of the raw text first, the rest is pre-tokenized (pretokenizer.h) and
// every piece is byte-pair encoded (bpe.h), with a per-thread cache of recent pieces.
// Thread safety: immutable after loading; encode/decode may be called from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/bpe.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/model.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/stream_decoder.h"

namespace llamba::io {
class GgufFile;
class GgufWriter;
}  // namespace llamba::io

namespace llamba::tokenizer {

class Tokenizer {
 public:
  // Detects the format from the content: GGUF magic, a JSON object (HF tokenizer.json; a sibling
  // tokenizer_config.json is read for bos/eos/chat template when present), else a tiktoken rank file.
  // Throws llamba::Error naming the file.
  static std::unique_ptr<Tokenizer> load(const std::string& path);
  static std::unique_ptr<Tokenizer> from_gguf(const io::GgufFile& f);
  explicit Tokenizer(TokenizerModel model);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // `add_bos`: prepend the BOS id (nothing if the model has none). `parse_special`: text like
  // "<|eot_id|>" becomes its special id; otherwise it is tokenized as plain text. User-defined added
  // tokens are always matched. Any bytes are accepted, including invalid UTF-8.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;
  void encode_into(std::string_view text, bool add_bos, bool parse_special, std::vector<int32_t>& out) const;
  // Concatenated token bytes (special tokens as their text); may be invalid UTF-8. Throws on a bad id.
  std::string decode(std::span<const int32_t> ids) const;
  std::string_view token_bytes(int32_t id) const;

  int32_t vocab_size() const { return m_.vocab.size(); }
  // 16 hex digits identifying the vocabulary (FNV-1a over every token's bytes, the BOS and EOS ids): token
  // shards record it so that a model with another tokenizer refuses them.
  std::string fingerprint() const;
  int32_t bos_id() const { return m_.bos; }  // -1 if none
  int32_t eos_id() const { return m_.eos; }
  bool add_bos_default() const { return m_.add_bos; }
  bool is_eog(int32_t id) const;
  bool is_special(int32_t id) const;  // control / user-defined / unknown tokens
  TokenType token_type(int32_t id) const { return m_.vocab.type(id); }

  ChatFormat chat_format() const { return chat_format_; }
  const ChatDefaults& chat_defaults() const { return chat_defaults_; }
  // The prompt text for `msgs` (Llama-3 output starts with the BOS text): encode it with
  // add_bos=false, parse_special=true.
  std::string apply_chat_template(const std::vector<ChatMessage>& msgs, bool add_generation_prompt) const;

  // Emits tokenizer.ggml.* and tokenizer.chat_template so that from_gguf() rebuilds this tokenizer. A
  // tiktoken source gets merges derived from its ranks (merges_for_export()).
  void write_gguf_metadata(io::GgufWriter& w) const;
  // The ranked merge list: the source's own, or for tiktoken every split of each token into two tokens,
  // ordered by the token's rank and then the parts' ranks (as transformers converts tiktoken files).
  std::vector<std::pair<int32_t, int32_t>> merges_for_export() const;

  const TokenizerModel& model() const { return m_; }
  const Bpe& bpe() const { return bpe_; }
  const PreTokenizer& pre_tokenizer() const { return pre_; }

 private:
  void encode_text(std::string_view text, std::vector<int32_t>& out) const;
  void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;

  TokenizerModel m_;
  Bpe bpe_;
  PreTokenizer pre_;
  SpecialMatcher specials_;
  std::vector<uint8_t> eog_;  // per id
  ChatFormat chat_format_ = ChatFormat::kNone;
  ChatDefaults chat_defaults_;
  uint64_t cache_key_ = 0;  // identifies this tokenizer in the per-thread piece cache
};

}  // namespace llamba::tokenizer
