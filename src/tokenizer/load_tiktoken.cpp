// tiktoken rank files (Llama-3 tokenizer.model): one "<base64 token bytes> <rank>" per line, rank = id.
// The 256 special tokens are not in the file; they are Meta's (llama-models models/llama3/tokenizer.py,
// Llama 3.1 naming), appended after the 128,000 ranks.
#include <fmt/format.h>

#include <charconv>

#include "core/check.h"
#include "tokenizer/model.h"
#include "tokenizer/pretokenizer.h"

namespace llamba::tokenizer {

namespace {

constexpr int32_t kLlama3Ranks = 128000;
constexpr int32_t kLlama3Specials = 256;

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with '=' padding; false on any malformed input.
bool b64_decode(std::string_view s, std::string& out) {
  out.clear();
  if (s.empty() || s.size() % 4 != 0) return false;
  for (size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s[i + k];
      if (c == '=' && i + 4 == s.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else {
        if (pad > 0) return false;  // data after padding
        v[k] = b64_value(c);
        if (v[k] < 0) return false;
      }
    }
    const uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
    out.push_back((char)(w >> 16));
    if (pad < 2) out.push_back((char)(w >> 8));
    if (pad < 1) out.push_back((char)w);
  }
  return true;
}

std::vector<std::string> llama3_special_names() {
  std::vector<std::string> n = {"<|begin_of_text|>",
                                "<|end_of_text|>",
                                "<|reserved_special_token_0|>",
                                "<|reserved_special_token_1|>",
                                "<|finetune_right_pad_id|>",
                                "<|step_id|>",
                                "<|start_header_id|>",
                                "<|end_header_id|>",
                                "<|eom_id|>",
                                "<|eot_id|>",
                                "<|python_tag|>",
                                "<|image|>"};
  for (int i = 2; (int)n.size() < kLlama3Specials; ++i) n.push_back(fmt::format("<|reserved_special_token_{}|>", i));
  return n;
}

}  // namespace

TokenizerModel load_tiktoken(std::string_view data, const std::string& path) {
  TokenizerModel m;
  m.path = path;
  m.format = "tiktoken";
  std::string bytes;
  int32_t max_rank = -1;
  int64_t line_no = 0, n_tokens = 0;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t eol = data.find('\n', pos);
    if (eol == std::string_view::npos) eol = data.size();
    std::string_view line = data.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const size_t sp = line.find(' ');
    LLAMBA_ENSURE(sp != std::string_view::npos && sp + 1 < line.size(),
                  "{}:{}: expected '<base64 token> <rank>', got '{}'", path, line_no, line.substr(0, 80));
    const std::string_view tok = line.substr(0, sp), rank_s = line.substr(sp + 1);
    LLAMBA_ENSURE(b64_decode(tok, bytes), "{}:{}: bad base64 token '{}'", path, line_no, tok.substr(0, 80));
    int64_t rank = -1;
    const auto [end, ec] = std::from_chars(rank_s.data(), rank_s.data() + rank_s.size(), rank);
    LLAMBA_ENSURE(ec == std::errc() && end == rank_s.data() + rank_s.size() && rank >= 0 && rank < (1 << 24),
                  "{}:{}: bad rank '{}'", path, line_no, rank_s.substr(0, 32));
    LLAMBA_ENSURE(rank >= m.vocab.size() || !m.vocab.is_set((int32_t)rank), "{}:{}: duplicate rank {}", path, line_no,
                  rank);
    LLAMBA_ENSURE(m.vocab.find(bytes) < 0, "{}:{}: duplicate token (rank {})", path, line_no, rank);
    m.vocab.set((int32_t)rank, bytes, TokenType::kNormal, true);
    max_rank = std::max<int32_t>(max_rank, (int32_t)rank);
    ++n_tokens;
  }
  LLAMBA_ENSURE(max_rank >= 0, "{}: empty tiktoken file", path);
  // Only Meta's Llama-3 vocabulary is a tiktoken file we know the pattern and special tokens of.
  LLAMBA_ENSURE(max_rank + 1 == kLlama3Ranks && n_tokens == kLlama3Ranks,
                "{}: tiktoken file with {} tokens (ranks up to {}); only the Llama-3 tokenizer.model (ranks 0..{}) "
                "is supported\n---> HINT: use the model's tokenizer.json or a GGUF file instead",
                path, n_tokens, max_rank, kLlama3Ranks - 1);
  const auto names = llama3_special_names();
  for (int32_t i = 0; i < kLlama3Specials; ++i) m.vocab.set(kLlama3Ranks + i, names[i], TokenType::kControl, false);
  m.merge_source = MergeSource::kTokenRanks;
  m.ignore_merges = true;  // tiktoken looks a whole piece up before merging
  m.pre_name = "llama-bpe";
  m.pre_patterns = {kLlama3Pattern};
  m.bos = kLlama3Ranks + 0;
  m.eos = kLlama3Ranks + 1;
  m.eom = kLlama3Ranks + 8;
  m.eot = kLlama3Ranks + 9;
  m.pad = -1;
  m.add_bos = true;
  collect_eog(m);
  return m;
}

}  // namespace llamba::tokenizer
