// Token shards and the loader.
#include "train/data/token_shards.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/check.h"
#include "core/rng.h"
#include "io/atomic_file.h"

namespace llamba::train {

namespace {
constexpr uint32_t kMagic = 0x4b544c4c;  // "LLTK"
constexpr size_t kHeader = 32;
}  // namespace

TokenShard TokenShard::open(const std::string& path) {
  TokenShard s;
  s.buf_ = core::Buffer::map_file(path);
  const uint8_t* p = s.buf_->data();
  LLAMBA_ENSURE(s.buf_->size() >= kHeader, "{}: not a token shard (too small)", path);
  uint32_t magic, version, bytes;
  uint64_t n, vocab;
  std::memcpy(&magic, p, 4);
  std::memcpy(&version, p + 4, 4);
  std::memcpy(&bytes, p + 8, 4);
  std::memcpy(&n, p + 16, 8);
  std::memcpy(&vocab, p + 24, 8);
  LLAMBA_ENSURE(magic == kMagic, "{}: not a token shard (bad magic)\n---> HINT: make shards with `llamba prepare-data`",
                path);
  LLAMBA_ENSURE(version == 1, "{}: token shard version {} (expected 1)", path, version);
  LLAMBA_ENSURE(bytes == 2 || bytes == 4, "{}: {} bytes per token (2 or 4)", path, bytes);
  LLAMBA_ENSURE(n <= (s.buf_->size() - kHeader) / bytes && kHeader + n * bytes == s.buf_->size(),
                "{}: header says {} tokens, file holds {} bytes of data (truncated?)", path, n,
                s.buf_->size() - kHeader);
  LLAMBA_ENSURE(vocab > 0 && vocab <= (1ull << 31), "{}: vocabulary size {}", path, vocab);
  s.data_ = p + kHeader;
  s.n_ = (int64_t)n;
  s.vocab_ = (int64_t)vocab;
  s.bytes_ = (int)bytes;
  return s;
}

int32_t TokenShard::operator[](int64_t i) const {
  if (bytes_ == 2) {
    uint16_t v;
    std::memcpy(&v, data_ + 2 * i, 2);
    return v;
  }
  int32_t v;
  std::memcpy(&v, data_ + 4 * i, 4);
  return v;
}

void write_token_shard(const std::string& path, const std::vector<int32_t>& ids, int64_t vocab_size) {
  const uint32_t bytes = vocab_size <= 65536 ? 2 : 4;
  uint8_t head[kHeader] = {};
  const uint32_t version = 1;
  const uint64_t n = ids.size(), vocab = (uint64_t)vocab_size;
  std::memcpy(head, &kMagic, 4);
  std::memcpy(head + 4, &version, 4);
  std::memcpy(head + 8, &bytes, 4);
  std::memcpy(head + 16, &n, 8);
  std::memcpy(head + 24, &vocab, 8);
  io::AtomicFile out(path);
  out.write(head, kHeader);
  if (bytes == 2) {
    std::vector<uint16_t> v(ids.begin(), ids.end());
    out.write(v.data(), v.size() * 2);
  } else {
    out.write(ids.data(), ids.size() * 4);
  }
  out.commit();
}

ShardSet open_shard_dir(const std::string& dir) {
  const std::string meta_path = (std::filesystem::path(dir) / "meta.json").string();
  std::ifstream in(meta_path);
  LLAMBA_ENSURE(in.good(), "{}: cannot open\n---> HINT: make shards with `llamba prepare-data -t TOKENIZER FILES -o {}`",
                meta_path, dir);
  nlohmann::json meta;
  try {
    in >> meta;
  } catch (const nlohmann::json::exception& e) {
    LLAMBA_THROW("{}: invalid JSON: {}", meta_path, e.what());
  }
  ShardSet s;
  LLAMBA_ENSURE(meta.contains("vocab_size") && meta["vocab_size"].is_number_integer(), "{}: missing vocab_size",
                meta_path);
  s.vocab_size = meta["vocab_size"].get<int64_t>();
  s.eos_id = meta.value("eos_id", -1);
  s.tokenizer_fingerprint = meta.value("tokenizer_fingerprint", std::string());
  for (const char* split : {"train", "val"}) {
    LLAMBA_ENSURE(meta.contains(split) && meta[split].is_array(), "{}: missing \"{}\" list", meta_path, split);
    for (const auto& f : meta[split]) {
      LLAMBA_ENSURE(f.is_string(), "{}: \"{}\" entries must be file names", meta_path, split);
      TokenShard sh = TokenShard::open((std::filesystem::path(dir) / f.get<std::string>()).string());
      LLAMBA_ENSURE(sh.vocab_size() == s.vocab_size, "{}: vocabulary {} differs from meta.json's {}", sh.path(),
                    sh.vocab_size(), s.vocab_size);
      (std::string(split) == "train" ? s.train : s.val).push_back(std::move(sh));
    }
  }
  LLAMBA_ENSURE(!s.train.empty(), "{}: no training shards", meta_path);
  return s;
}

TokenLoader::TokenLoader(const std::vector<TokenShard>* shards, int64_t seq_len, uint64_t seed, bool shuffle)
    : shards_(shards), T_(seq_len), seed_(seed), shuffle_(shuffle) {
  LLAMBA_ENSURE(seq_len >= 1, "sequence length {} must be >= 1", seq_len);
  for (size_t s = 0; s < shards->size(); ++s)
    for (int64_t start = 0; start + T_ + 1 <= (*shards)[s].size(); start += T_) index_.push_back({(int32_t)s, start});
  LLAMBA_ENSURE(!index_.empty(), "no shard holds a full window of {} tokens", T_ + 1);
  shuffle_epoch();
}

void TokenLoader::shuffle_epoch() {
  order_.resize(index_.size());
  std::iota(order_.begin(), order_.end(), 0);
  if (!shuffle_) return;
  core::Rng rng(seed_ * 0x9e3779b97f4a7c15ull + (uint64_t)pos_.epoch);
  for (int64_t i = (int64_t)order_.size() - 1; i > 0; --i) std::swap(order_[i], order_[rng.below(i + 1)]);
}

void TokenLoader::seek(const Position& p) {
  LLAMBA_ENSURE(p.epoch >= 0 && p.cursor >= 0 && p.cursor <= (int64_t)index_.size(),
                "data position (epoch {}, cursor {}) is outside this data ({} windows)", p.epoch, p.cursor,
                index_.size());
  pos_ = p;
  shuffle_epoch();
}

void TokenLoader::next(int64_t batch, std::vector<int32_t>& out) {
  out.resize(batch * (T_ + 1));
  for (int64_t b = 0; b < batch; ++b) {
    if (pos_.cursor >= (int64_t)order_.size()) {
      ++pos_.epoch;
      pos_.cursor = 0;
      shuffle_epoch();
    }
    const auto [s, start] = index_[order_[pos_.cursor++]];
    for (int64_t t = 0; t <= T_; ++t) out[b * (T_ + 1) + t] = (*shards_)[s][start + t];
  }
}

}  // namespace llamba::train
