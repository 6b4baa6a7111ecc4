// Small open-addressing hash tables for the tokenizer's hot paths: byte strings -> id (the vocabulary) and
// id pairs -> merge (BPE). Insert-only, power-of-two capacity, linear probing; no per-entry allocation.
// Thread safety: const lookups may run concurrently; inserts need exclusive access.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace llamba::tokenizer {

// A fast non-cryptographic hash of a short byte string (mixes 8 bytes at a time).
inline uint64_t hash_bytes(const char* p, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ v) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t v = 0;
    std::memcpy(&v, p, n);
    h = (h ^ v) * 0x94d049bb133111ebull;
    h ^= h >> 31;
  }
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 32);
}

inline size_t table_capacity(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;  // load factor <= 0.5 keeps probes short
  return cap;
}

// Maps byte strings to int32 values. The strings live in the caller's storage (`key_of(value)` must return
// the key of a stored value), so the table itself holds only (hash tag, value) pairs.
class BytesIndex {
 public:
  void reserve(size_t n) {
    slots_.assign(table_capacity(n), Slot{0, -1});
    size_ = 0;
    mask_ = slots_.size() - 1;
  }
  size_t capacity() const { return slots_.size(); }

  // Returns the stored value for `key`, or -1. `key_of(v)` gives the bytes of stored value v.
  template <class KeyOf>
  int32_t find(std::string_view key, const KeyOf& key_of) const {
    if (slots_.empty()) return -1;
    const uint64_t h = hash_bytes(key.data(), key.size());
    const uint32_t tag = (uint32_t)(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.value < 0) return -1;
      if (s.tag == tag && key_of(s.value) == key) return s.value;
    }
  }

  // Inserts (key, value) unless the key is present; returns the value now stored for the key.
  template <class KeyOf>
  int32_t insert(std::string_view key, int32_t value, const KeyOf& key_of) {
    if ((size_ + 1) * 2 > slots_.size()) grow(key_of);
    const uint64_t h = hash_bytes(key.data(), key.size());
    const uint32_t tag = (uint32_t)(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.value < 0) {
        s = Slot{tag, value};
        ++size_;
        return value;
      }
      if (s.tag == tag && key_of(s.value) == key) return s.value;
    }
  }

 private:
  struct Slot {
    uint32_t tag;
    int32_t value;
  };
  template <class KeyOf>
  void grow(const KeyOf& key_of) {
    std::vector<Slot> old;
    old.swap(slots_);
    reserve(std::max<size_t>(size_ + 1, old.size()));
    size_ = 0;
    for (const Slot& s : old)
      if (s.value >= 0) insert(key_of(s.value), s.value, key_of);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// A BPE merge: adjacent ids (left, right) become `result`; lower `rank` merges first.
struct Merge {
  int32_t rank = -1;
  int32_t result = -1;
};

// Maps an ordered id pair to its Merge.
class PairMap {
 public:
  void reserve(size_t n) {
    slots_.assign(table_capacity(n), Slot{kEmpty, {}});
    mask_ = slots_.size() - 1;
    size_ = 0;
  }
  size_t size() const { return size_; }

  Merge find(int32_t left, int32_t right) const {
    if (slots_.empty()) return Merge{};
    const uint64_t key = pack(left, right);
    for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return s.merge;
      if (s.key == kEmpty) return Merge{};
    }
  }

  // Keeps the first merge given for a pair, as llama.cpp does (HF keeps the last; real files list each
  // pair once).
  bool insert(int32_t left, int32_t right, Merge m) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const uint64_t key = pack(left, right);
    for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.key == key) return false;
      if (s.key == kEmpty) {
        s = Slot{key, m};
        ++size_;
        return true;
      }
    }
  }

  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const Slot& s : slots_)
      if (s.key != kEmpty) fn((int32_t)(s.key >> 32), (int32_t)(uint32_t)s.key, s.merge);
  }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  static uint64_t pack(int32_t l, int32_t r) { return ((uint64_t)(uint32_t)l << 32) | (uint32_t)r; }
  static uint64_t mix(uint64_t k) {
    k *= 0x9e3779b97f4a7c15ull;
    return k ^ (k >> 29);
  }
  struct Slot {
    uint64_t key;
    Merge merge;
  };
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    reserve(std::max<size_t>(size_ + 1, old.size()));
    for (const Slot& s : old)
      if (s.key != kEmpty) insert((int32_t)(s.key >> 32), (int32_t)(uint32_t)s.key, s.merge);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace llamba::tokenizer
