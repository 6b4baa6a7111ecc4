// A per-thread, direct-mapped cache of recent pre-token -> ids results, so that frequent words skip the
// BPE merge loop. Fixed size, no allocation after the first use, never cleared: each slot remembers which
// tokenizer (a process-unique key) and which bytes it holds.
// Thread safety: one cache per thread (thread_local); not shared.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "tokenizer/flat_hash.h"

namespace llamba::tokenizer {

class PieceCache {
 public:
  static constexpr size_t kMaxBytes = 40;  // longer pieces are rare and not cached
  static constexpr size_t kMaxIds = 14;

  static PieceCache& for_this_thread() {
    thread_local PieceCache c;
    return c;
  }

  // Appends the cached ids of `piece` to `out` and returns true on a hit.
  bool get(uint64_t owner, std::string_view piece, uint64_t h, std::vector<int32_t>& out) const {
    const Slot& s = slots_[h & (kSlots - 1)];
    if (s.owner != owner || s.hash != h || s.len != piece.size() || std::memcmp(s.bytes, piece.data(), s.len) != 0)
      return false;
    out.insert(out.end(), s.ids, s.ids + s.n_ids);
    return true;
  }

  void put(uint64_t owner, std::string_view piece, uint64_t h, const int32_t* ids, size_t n) {
    if (piece.size() > kMaxBytes || n > kMaxIds) return;
    Slot& s = slots_[h & (kSlots - 1)];
    s.owner = owner;
    s.hash = h;
    s.len = (uint8_t)piece.size();
    s.n_ids = (uint8_t)n;
    std::memcpy(s.bytes, piece.data(), piece.size());
    std::memcpy(s.ids, ids, n * sizeof(int32_t));
  }

 private:
  static constexpr size_t kSlots = 1 << 13;
  struct Slot {
    uint64_t owner = 0;
    uint64_t hash = 0;
    uint8_t len = 0, n_ids = 0;
    char bytes[kMaxBytes];
    int32_t ids[kMaxIds];
  };
  PieceCache() : slots_(kSlots) {}
  std::vector<Slot> slots_;
};

}  // namespace llamba::tokenizer
