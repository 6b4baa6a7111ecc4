// BPE merge loops: a linear scan over stack arrays for short pieces, a lazy-deletion heap for long ones.
#include "tokenizer/bpe.h"

#include <algorithm>
#include <queue>
#include <string>

#include "core/check.h"

namespace llamba::tokenizer {

void Bpe::init(const Vocab* vocab, bool ignore_merges, int32_t unk_id, bool fuse_unk) {
  vocab_ = vocab;
  ignore_merges_ = ignore_merges;
  unk_id_ = unk_id;
  fuse_unk_ = fuse_unk;
  next_rank_ = 0;
  for (int b = 0; b < 256; ++b) {
    const char c = (char)b;
    byte_token_[b] = vocab->find(std::string_view(&c, 1));
  }
  pairs_.reserve(1024);
}

bool Bpe::add_merge(int32_t left, int32_t right) {
  const int32_t rank = next_rank_++;
  if (left < 0 || right < 0) return false;
  std::string cat(vocab_->bytes(left));
  cat += vocab_->bytes(right);
  const int32_t result = vocab_->find(cat);
  if (result < 0) return false;
  return pairs_.insert(left, right, Merge{rank, result});
}

void Bpe::add_token_rank_merges() {
  for (int32_t id = 0; id < vocab_->size(); ++id) {
    const std::string_view t = vocab_->bytes(id);
    if (t.size() < 2 || vocab_->find(t) != id) continue;
    for (size_t k = 1; k < t.size(); ++k) {
      const int32_t l = vocab_->find(t.substr(0, k));
      if (l < 0) continue;
      const int32_t r = vocab_->find(t.substr(k));
      if (r >= 0) pairs_.insert(l, r, Merge{id, id});
    }
  }
}

void Bpe::encode(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (piece.size() == 1) {
    emit(&byte_token_[(uint8_t)piece[0]], 1, out);
    return;
  }
  if (ignore_merges_) {
    const int32_t id = vocab_->find(piece);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  merge(piece, out, piece.size() > (size_t)kShortMax);
}

void Bpe::merge(std::string_view piece, std::vector<int32_t>& out, bool use_heap, int32_t max_rank) const {
  const auto* p = reinterpret_cast<const uint8_t*>(piece.data());
  if (use_heap || piece.size() > (size_t)kShortMax)
    merge_heap(p, piece.size(), out, max_rank);
  else
    merge_short(p, (int)piece.size(), out, max_rank);
}

void Bpe::merge_short(const uint8_t* p, int n, std::vector<int32_t>& out, int32_t max_rank) const {
  int32_t ids[kShortMax], rank[kShortMax], result[kShortMax];
  for (int i = 0; i < n; ++i) ids[i] = byte_token_[p[i]];
  auto lookup = [&](int i) {
    const Merge m = pairs_.find(ids[i], ids[i + 1]);
    rank[i] = (m.rank >= 0 && m.rank < max_rank) ? m.rank : INT_MAX;
    result[i] = m.result;
  };
  int m = n;
  for (int i = 0; i + 1 < m; ++i) lookup(i);
  while (m > 1) {
    int best = -1;
    int32_t best_rank = INT_MAX;
    for (int i = 0; i + 1 < m; ++i) {
      if (rank[i] < best_rank) {  // strict: the leftmost of equal ranks wins
        best_rank = rank[i];
        best = i;
      }
    }
    if (best < 0) break;
    ids[best] = result[best];
    for (int j = best + 1; j + 1 < m; ++j) {
      ids[j] = ids[j + 1];
      rank[j] = rank[j + 1];
      result[j] = result[j + 1];
    }
    --m;
    if (best + 1 < m) lookup(best);
    if (best > 0) lookup(best - 1);
  }
  emit(ids, m, out);
}

void Bpe::merge_heap(const uint8_t* p, size_t n, std::vector<int32_t>& out, int32_t max_rank) const {
  // Symbols form a linked list over byte positions; a merge keeps the left symbol and unlinks the right one.
  if (n == 0) return;
  struct Sym {
    int32_t id, prev, next;
  };
  struct Cand {
    int32_t rank, pos, right, left_id, right_id, result;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::vector<Sym> sym(n);
  for (size_t i = 0; i < n; ++i) sym[i] = Sym{byte_token_[p[i]], (int32_t)i - 1, i + 1 < n ? (int32_t)i + 1 : -1};
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto push = [&](int32_t l) {
    if (l < 0) return;
    const int32_t r = sym[l].next;
    if (r < 0) return;
    const Merge m = pairs_.find(sym[l].id, sym[r].id);
    if (m.rank >= 0 && m.rank < max_rank) heap.push(Cand{m.rank, l, r, sym[l].id, sym[r].id, m.result});
  };
  for (size_t i = 0; i + 1 < n; ++i) push((int32_t)i);
  while (!heap.empty()) {
    const Cand c = heap.top();
    heap.pop();
    // Stale if either side changed since the candidate was pushed.
    if (sym[c.pos].id != c.left_id || sym[c.pos].next != c.right || sym[c.right].id != c.right_id) continue;
    const int32_t after = sym[c.right].next;
    sym[c.pos].id = c.result;
    sym[c.pos].next = after;
    if (after >= 0) sym[after].prev = c.pos;
    sym[c.right].id = INT32_MIN;  // dead
    push(sym[c.pos].prev);
    push(c.pos);
  }
  std::vector<int32_t> ids;
  for (int32_t i = 0; i >= 0; i = sym[i].next) ids.push_back(sym[i].id);
  emit(ids.data(), ids.size(), out);
}

}  // namespace llamba::tokenizer
