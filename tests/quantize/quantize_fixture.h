// The input models of tests/fixtures/quantize/llama_quantize.json, rebuilt from their recipe: the same tensor
// values as tools/reference/make_quantize_fixtures.py's generator (each step one float32 operation, exact
// power-of-two scales), written by our GGUF writer in the same key and tensor order as gguf-py wrote them.
// mix64 is the fixture's 64-bit hash of a byte string.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "test_util.h"

namespace llamba::test {

inline uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t mix64(const void* data, size_t n) {
  const auto* b = static_cast<const uint8_t*>(data);
  uint64_t h = 0;
  for (size_t w = 0; w * 8 < n; ++w) {
    uint64_t word = 0;
    std::memcpy(&word, b + w * 8, std::min<size_t>(8, n - w * 8));
    h += word * (splitmix64(w) | 1);
  }
  return h ^ (uint64_t)n;
}

inline std::string hex64(uint64_t h) { return fmt::format("{:016x}", h); }

inline std::vector<float> fixture_tensor_values(uint64_t seed, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  const uint64_t ncols = (uint64_t)shape.back(), base = seed << 32;
  auto uniform24 = [](uint64_t h) { return (float)(h >> 40) * 0x1p-24f; };
  std::vector<float> out((size_t)n);
  for (uint64_t i = 0; i < (uint64_t)n; ++i) {
    const uint64_t h1 = splitmix64(base + i), h2 = splitmix64(h1), h3 = splitmix64(h2);
    const float v = ((uniform24(h1) + uniform24(h2)) + uniform24(h3)) - 1.5f;
    const int row_exp = (int)(splitmix64(base + 0x55550000ull + i / ncols) >> 60) - 10;
    float x = v * std::ldexp(1.0f, row_exp);
    switch ((int)(splitmix64(base + 0xAAAA0000ull + i / 32) >> 59)) {
      case 0: x = 0.0f; break;
      case 1: x = std::fabs(x); break;
      case 2: x = -std::fabs(x); break;
      case 3: x *= 0x1p-52f; break;
      case 4: x *= 0x1p-44f; break;
      case 5: if (i % 32 == 0) x *= 64.0f; break;
      default: break;
    }
    out[i] = x;
  }
  return out;
}

inline nlohmann::json load_quantize_fixture() {
  std::ifstream in(fixture_path("quantize/llama_quantize.json"));
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

// Writes `model`'s F32 input GGUF to `path`.
inline void write_fixture_input(const nlohmann::json& model, const std::string& path) {
  io::GgufWriter w;
  for (const auto& kv : model["metadata"]) {
    const std::string key = kv[0], kind = kv[1];
    if (kind == "string") w.set(key, io::GgufValue::string(kv[2].get<std::string>()));
    else if (kind == "u32") w.set(key, io::GgufValue::u32(kv[2].get<uint32_t>()));
    else w.set(key, io::GgufValue::f32(kv[2].get<float>()));
  }
  for (const auto& t : model["tensors"]) {
    const std::vector<int64_t> shape = t["shape"];
    w.add_tensor(t["name"].get<std::string>(),
                 core::Tensor::from_f32(core::Shape::from(shape), fixture_tensor_values(t["seed"], shape)));
  }
  w.write(path);
}

inline std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace llamba::test
