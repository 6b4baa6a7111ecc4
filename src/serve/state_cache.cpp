#include "serve/state_cache.h"

#include <algorithm>

namespace llamba::serve {

int64_t StateCache::Entry::bytes() const {
  return state->bytes() + (int64_t)(tokens.size() * sizeof(int32_t) + logits.size() * sizeof(float));
}

uint64_t StateCache::hash(std::span<const int32_t> tokens) {
  uint64_t h = 1469598103934665603ull ^ tokens.size();  // FNV-1a over the ids
  for (int32_t t : tokens) h = (h ^ (uint32_t)t) * 1099511628211ull;
  return h;
}

void StateCache::put(std::span<const int32_t> tokens, const models::SequenceState& state,
                     std::span<const float> logits) {
  const uint64_t h = hash(tokens);
  for (auto [it, end] = by_hash_.equal_range(h); it != end; ++it)
    if (std::ranges::equal(it->second->tokens, tokens)) {
      lru_.splice(lru_.begin(), lru_, it->second);  // already cached: just refresh
      return;
    }
  Entry e{{tokens.begin(), tokens.end()}, state.clone(), {logits.begin(), logits.end()}};
  const int64_t b = e.bytes();
  if (b > budget_) return;
  evict_to(budget_ - b);
  lru_.push_front(std::move(e));
  by_hash_.emplace(h, lru_.begin());
  bytes_ += b;
  if (std::ranges::find(lengths_, (int64_t)tokens.size()) == lengths_.end()) lengths_.push_back((int64_t)tokens.size());
}

void StateCache::evict_to(int64_t budget) {
  while (bytes_ > budget && !lru_.empty()) {
    auto last = std::prev(lru_.end());
    const uint64_t h = hash(last->tokens);
    for (auto [it, end] = by_hash_.equal_range(h); it != end; ++it)
      if (it->second == last) {
        by_hash_.erase(it);
        break;
      }
    const int64_t n = (int64_t)last->tokens.size();
    bytes_ -= last->bytes();
    lru_.erase(last);
    if (std::ranges::none_of(lru_, [n](const Entry& e) { return (int64_t)e.tokens.size() == n; }))
      std::erase(lengths_, n);
  }
}

const StateCache::Entry* StateCache::longest_prefix(std::span<const int32_t> prompt) {
  std::vector<int64_t> lens = lengths_;
  std::ranges::sort(lens, std::greater<>());
  for (int64_t n : lens) {
    if (n > (int64_t)prompt.size()) continue;
    const auto prefix = prompt.first(n);
    for (auto [it, end] = by_hash_.equal_range(hash(prefix)); it != end; ++it)
      if (std::ranges::equal(it->second->tokens, prefix)) {
        lru_.splice(lru_.begin(), lru_, it->second);
        ++hits_;
        return &*lru_.begin();
      }
  }
  ++misses_;
  return nullptr;
}

}  // namespace llamba::serve
