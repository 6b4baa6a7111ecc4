// Byte-pair encoding of one pre-token: start from one token per byte and repeatedly apply the lowest-ranked
// merge of two adjacent tokens (leftmost on ties), as HF `tokenizers`, tiktoken and llama.cpp all do.
// Merges come either from a ranked merge list (tokenizer.json, GGUF: rank = list position) or from tiktoken
// ranks (any adjacent pair whose concatenation is a token merges, rank = that token's rank).
// Thread safety: immutable after building; encode() is const and allocation-free for short pieces.
#pragma once

#include <climits>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/flat_hash.h"
#include "tokenizer/vocab.h"

namespace llamba::tokenizer {

class Bpe {
 public:
  // Pieces up to this many bytes merge in stack arrays with a linear scan; longer ones use a heap.
  static constexpr int kShortMax = 96;

  // `vocab` must outlive this object. `ignore_merges`: a piece that is itself a token is emitted whole
  // (tiktoken, and HF BPE with ignore_merges=true). `unk_id` stands in for bytes without a token (-1: such
  // bytes are dropped, as HF does without an unk token); `fuse_unk`: a run of them becomes one unk (HF).
  void init(const Vocab* vocab, bool ignore_merges, int32_t unk_id, bool fuse_unk);
  // Ranked merge list: adds (left, right) -> result with the next rank. Returns false (and skips it) when a
  // token is missing or the pair is already listed.
  bool add_merge(int32_t left, int32_t right);
  // tiktoken: every split of every indexed multi-byte token into two indexed tokens becomes a merge with the
  // token's id as its rank.
  void add_token_rank_merges();

  size_t merge_count() const { return pairs_.size(); }
  bool ignore_merges() const { return ignore_merges_; }
  int32_t byte_token(uint8_t b) const { return byte_token_[b]; }
  const PairMap& pairs() const { return pairs_; }

  // Appends the ids of `piece` to `out`.
  void encode(std::string_view piece, std::vector<int32_t>& out) const;
  // The merge loop alone (no whole-piece lookup), with a chosen algorithm; for tests and for deriving
  // merges. Only merges with rank < max_rank apply.
  void merge(std::string_view piece, std::vector<int32_t>& out, bool use_heap, int32_t max_rank = INT_MAX) const;

 private:
  void merge_short(const uint8_t* p, int n, std::vector<int32_t>& out, int32_t max_rank) const;
  void merge_heap(const uint8_t* p, size_t n, std::vector<int32_t>& out, int32_t max_rank) const;
  // Appends final symbols; -1 marks a byte without a token.
  void emit(const int32_t* ids, size_t n, std::vector<int32_t>& out) const {
    for (size_t i = 0; i < n; ++i) {
      if (ids[i] >= 0)
        out.push_back(ids[i]);
      else if (unk_id_ >= 0 && !(fuse_unk_ && i > 0 && ids[i - 1] < 0))
        out.push_back(unk_id_);
    }
  }

  const Vocab* vocab_ = nullptr;
  bool ignore_merges_ = false;
  int32_t unk_id_ = -1;
  bool fuse_unk_ = false;
  int32_t next_rank_ = 0;
  int32_t byte_token_[256];
  PairMap pairs_;
};

}  // namespace llamba::tokenizer
