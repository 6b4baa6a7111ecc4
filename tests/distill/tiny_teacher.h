// The tiny MOHAWK fixture's teacher (tests/fixtures/mohawk/tiny/teacher, a transformers Llama: V 96, D 32, L 2,
// 4 query / 2 KV heads) converted to a GGUF file, and token shards for it, for the distillation tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/hf_checkpoint.h"
#include "models/convert.h"
#include "test_util.h"
#include "train/data/token_shards.h"

namespace llamba::test {

// Writes the teacher once per test process; returns its path.
inline std::string tiny_teacher_path() {
  static const std::string path = [] {
    const std::string p = temp_path("mohawk_tiny_teacher.gguf").string();
    const auto ckpt = io::HfCheckpoint::open(fixture_path("mohawk/tiny/teacher"));
    io::GgufWriter w;
    models::convert_hf(ckpt, {}, w);
    w.write(p);
    return p;
  }();
  return path;
}

// A shard folder of `n_train` / `n_val` tokens below `vocab` (a seeded order-2 Markov chain, so there is structure
// to learn), with meta.json; `fingerprint` is written when not empty.
inline std::string write_tiny_shards(const std::string& name, int64_t vocab = 96, const std::string& fingerprint = "",
                                     int64_t n_train = 8192, int64_t n_val = 1024) {
  const std::filesystem::path dir = temp_path(name);
  std::filesystem::create_directories(dir);
  uint64_t s = 12345;
  auto next = [&](int32_t a, int32_t b) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    const int64_t noise = (int64_t)((s >> 33) % 4);
    return (int32_t)((a * 7 + b * 3 + noise) % vocab);
  };
  auto make = [&](int64_t n) {
    std::vector<int32_t> ids = {1, 2};
    while ((int64_t)ids.size() < n) ids.push_back(next(ids[ids.size() - 2], ids.back()));
    return ids;
  };
  train::write_token_shard((dir / "train_000.bin").string(), make(n_train), vocab);
  train::write_token_shard((dir / "val_000.bin").string(), make(n_val), vocab);
  nlohmann::json meta = {
      {"version", 1},           {"vocab_size", vocab},     {"eos_id", 0},        {"train", {"train_000.bin"}},
      {"val", {"val_000.bin"}}, {"train_tokens", n_train}, {"val_tokens", n_val}};
  if (!fingerprint.empty()) meta["tokenizer_fingerprint"] = fingerprint;
  std::ofstream(dir / "meta.json") << meta.dump(2);
  return dir.string();
}

}  // namespace llamba::test
