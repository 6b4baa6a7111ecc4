// Token shards for training: flat binary files of token ids, memory-mapped, and a seeded, resumable loader that
// draws (T + 1)-token windows (inputs and next-token targets) in a shuffled order per epoch.
//
// Shard format (little-endian): u32 magic "LLTK" (0x4b544c4c), u32 version 1, u32 bytes per token (2 or 4),
// u32 reserved 0, u64 token count, u64 vocabulary size, then the ids. A directory of shards has meta.json:
// {"version": 1, "vocab_size": V, "eos_id": E, "tokenizer": "...", "tokenizer_fingerprint": "...",
//  "train": [files], "val": [files],
//  "train_tokens": n, "val_tokens": n}.
// Thread safety: a TokenShard is immutable; a TokenLoader is used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/buffer.h"

namespace llamba::train {

class TokenShard {
 public:
  static TokenShard open(const std::string& path);  // checks magic, version, size; names the file on error
  int64_t size() const { return n_; }
  int64_t vocab_size() const { return vocab_; }
  int32_t operator[](int64_t i) const;
  const std::string& path() const { return buf_->path(); }

 private:
  std::shared_ptr<core::Buffer> buf_;
  const uint8_t* data_ = nullptr;
  int64_t n_ = 0, vocab_ = 0;
  int bytes_ = 2;
};

// Writes one shard atomically; the token width follows the vocabulary size.
void write_token_shard(const std::string& path, const std::vector<int32_t>& ids, int64_t vocab_size);

struct ShardSet {
  int64_t vocab_size = 0;
  int32_t eos_id = -1;
  std::string tokenizer_fingerprint;  // Tokenizer::fingerprint() of the tokenizer that made them; empty if unknown
  std::vector<TokenShard> train, val;
};
// Reads `dir`/meta.json and maps its shards.
ShardSet open_shard_dir(const std::string& dir);

class TokenLoader {
 public:
  struct Position {
    int64_t epoch = 0, cursor = 0;  // cursor: windows already served in this epoch
  };
  // Windows of T + 1 tokens with stride T over each shard (every token is a target once per epoch).
  TokenLoader(const std::vector<TokenShard>* shards, int64_t seq_len, uint64_t seed, bool shuffle);
  int64_t windows() const { return (int64_t)index_.size(); }
  // Fills `out` with (batch, T + 1) tokens, moving through the epoch (and into the next).
  void next(int64_t batch, std::vector<int32_t>& out);
  Position position() const { return pos_; }
  void seek(const Position& p);

 private:
  void shuffle_epoch();
  const std::vector<TokenShard>* shards_;
  int64_t T_;
  uint64_t seed_;
  bool shuffle_;
  std::vector<std::pair<int32_t, int64_t>> index_;  // (shard, start) of every window
  std::vector<int64_t> order_;
  Position pos_;
};

}  // namespace llamba::train
