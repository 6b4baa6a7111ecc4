// Tokenizer: format detection, encode/decode pipeline, end-of-generation set and chat template choice.
#include "tokenizer/tokenizer.h"

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/buffer.h"
#include "core/check.h"
#include "io/gguf.h"
#include "tokenizer/piece_cache.h"

namespace llamba::tokenizer {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  LLAMBA_ENSURE(f, "{}: cannot open tokenizer file", path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

uint64_t next_cache_key() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string& path) {
  LLAMBA_ENSURE(std::filesystem::is_regular_file(path), "{}: tokenizer file not found", path);
  char magic[4] = {};
  {
    std::ifstream f(path, std::ios::binary);
    f.read(magic, 4);
  }
  if (std::string_view(magic, 4) == "GGUF") return from_gguf(io::GgufFile::open(path));
  const std::string data = read_file(path);
  const size_t first = data.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && data[first] == '{') {
    const auto cfg = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
    const std::string config = std::filesystem::is_regular_file(cfg) ? read_file(cfg.string()) : std::string();
    return std::make_unique<Tokenizer>(load_hf_json(data, path, config));
  }
  return std::make_unique<Tokenizer>(load_tiktoken(data, path));
}

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const io::GgufFile& f) {
  return std::make_unique<Tokenizer>(load_gguf(f));
}

Tokenizer::Tokenizer(TokenizerModel model) : m_(std::move(model)) {
  bpe_.init(&m_.vocab, m_.ignore_merges, m_.unk, m_.fuse_unk);
  if (m_.merge_source == MergeSource::kTokenRanks) {
    bpe_.add_token_rank_merges();
  } else {
    for (const auto& [l, r] : m_.merges) bpe_.add_merge(l, r);
  }
  try {
    pre_ = PreTokenizer(m_.pre_patterns);
  } catch (const std::exception& e) {
    core::rethrow_with_context(m_.path + ": ", e);
  }
  specials_.build(m_.vocab);
  if (m_.eog.empty()) collect_eog(m_);
  eog_.assign(m_.vocab.size(), 0);
  for (const int32_t id : m_.eog)
    if (id >= 0 && id < vocab_size()) eog_[id] = 1;
  chat_format_ = detect_chat_format(m_.chat_template);
  if (m_.chat_template.empty()) {
    // No template in the file (tiktoken): choose by the special tokens the vocabulary has.
    if (specials_.find_exact("<|start_header_id|>") >= 0)
      chat_format_ = ChatFormat::kLlama3;
    else if (specials_.find_exact("<|im_start|>") >= 0)
      chat_format_ = ChatFormat::kChatMl;
  }
  chat_defaults_ = tokenizer::chat_defaults(chat_format_, m_.chat_template);
  cache_key_ = next_cache_key();
}

Tokenizer::~Tokenizer() = default;

bool Tokenizer::is_eog(int32_t id) const { return id >= 0 && id < (int32_t)eog_.size() && eog_[id]; }

bool Tokenizer::is_special(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return false;
  const TokenType t = m_.vocab.type(id);
  return t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown;
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
  LLAMBA_ENSURE(id >= 0 && id < vocab_size(), "token id {} out of range [0, {})", id, vocab_size());
  return m_.vocab.bytes(id);
}

std::string Tokenizer::fingerprint() const {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const uint8_t*>(p)[i]) * 1099511628211ull;
  };
  for (int32_t id = 0; id < vocab_size(); ++id) {
    const std::string_view t = token_bytes(id);
    const uint64_t n = t.size();
    mix(&n, sizeof n);
    mix(t.data(), t.size());
  }
  const int32_t ids[2] = {bos_id(), eos_id()};
  mix(ids, sizeof ids);
  return fmt::format("{:016x}", h);
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  for (const int32_t id : ids) out += token_bytes(id);
  return out;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  encode_into(text, add_bos, parse_special, out);
  return out;
}

void Tokenizer::encode_into(std::string_view text, bool add_bos, bool parse_special, std::vector<int32_t>& out) const {
  if (add_bos && m_.bos >= 0) out.push_back(m_.bos);
  size_t pos = 0, begin = 0, len = 0;
  int32_t id = -1;
  while (specials_.find(text, pos, parse_special, &begin, &len, &id)) {
    encode_text(text.substr(pos, begin - pos), out);
    out.push_back(id);
    pos = begin + len;
  }
  encode_text(text.substr(pos), out);
}

void Tokenizer::encode_text(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  pre_.split(text, [&](std::string_view piece) { encode_piece(piece, out); });
}

void Tokenizer::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.size() == 1) {
    bpe_.encode(piece, out);
    return;
  }
  if (bpe_.ignore_merges()) {  // a piece that is itself a token is emitted whole
    const int32_t id = m_.vocab.find(piece);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  if (piece.size() > PieceCache::kMaxBytes) {
    bpe_.merge(piece, out, false);
    return;
  }
  PieceCache& cache = PieceCache::for_this_thread();
  const uint64_t h = hash_bytes(piece.data(), piece.size());
  if (cache.get(cache_key_, piece, h, out)) return;
  const size_t start = out.size();
  bpe_.merge(piece, out, false);
  cache.put(cache_key_, piece, h, out.data() + start, out.size() - start);
}

std::string Tokenizer::apply_chat_template(const std::vector<ChatMessage>& msgs, bool add_generation_prompt) const {
  const std::string_view bos = m_.bos >= 0 ? m_.vocab.bytes(m_.bos) : std::string_view();
  try {
    return render_chat(chat_format_, msgs, add_generation_prompt, bos, chat_defaults_);
  } catch (const std::exception& e) {
    core::rethrow_with_context(m_.path + ": ", e);
  }
}

}  // namespace llamba::tokenizer
