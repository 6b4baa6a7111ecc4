// StateCache: snapshots of sequence states keyed by the exact tokens they consumed, for prefix reuse. A
// recurrent model's whole context is one constant-size state, so a new request whose prompt starts with a cached
// token sequence restores that state and prefills only the rest. Least-recently-used entries are evicted to
// stay under the byte budget. Thread safety: none; the scheduler thread owns it.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "models/state.h"

namespace llamba::serve {

class StateCache {
 public:
  struct Entry {
    std::vector<int32_t> tokens;                  // what the state consumed
    std::unique_ptr<models::SequenceState> state;
    std::vector<float> logits;                    // next-token logits after `tokens`
    int64_t bytes() const;
  };

  explicit StateCache(int64_t budget_bytes) : budget_(budget_bytes) {}
  // Stores a copy of `state` (after `tokens`) unless that exact sequence is cached; evicts LRU entries to fit.
  // An entry larger than the whole budget is not stored.
  void put(std::span<const int32_t> tokens, const models::SequenceState& state, std::span<const float> logits);
  // The entry with the longest token sequence that is a prefix of `prompt` (any length ≤ prompt.size()), or
  // nullptr; marks it recently used and counts a hit or a miss.
  const Entry* longest_prefix(std::span<const int32_t> prompt);

  int64_t bytes() const { return bytes_; }
  int64_t budget() const { return budget_; }
  size_t size() const { return lru_.size(); }
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  using List = std::list<Entry>;
  static uint64_t hash(std::span<const int32_t> tokens);
  void evict_to(int64_t budget);

  int64_t budget_, bytes_ = 0, hits_ = 0, misses_ = 0;
  List lru_;  // most recent first
  // By the hash of the tokens (their count included): a prompt's prefixes are looked up per cached length.
  std::unordered_multimap<uint64_t, List::iterator> by_hash_;
  std::vector<int64_t> lengths_;  // distinct cached lengths, for the lookup; small
};

}  // namespace llamba::serve
