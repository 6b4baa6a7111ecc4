// Builds small random Llamba GGUF files for mode-equivalence and state tests (shapes chosen by the caller:
// G < H and P not a power of two included). Decays are spread over (0.05, 0.99) through the `a` rows' scale.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "core/rng.h"
#include "io/gguf.h"
#include "test_util.h"

namespace llamba::test {

struct TinyLlambaShape {
  int64_t vocab = 96, d_model = 32, n_layers = 2, ffn = 48, n_heads = 4, n_groups = 2, d_state = 8, conv = 4;
  int64_t d_inner = 32;  // P = d_inner / n_heads
  int64_t chunk = 16;
  bool tied = true;
};

// `extra` may add metadata (e.g. a tokenizer) before the file is written.
inline std::string write_tiny_llamba(const TinyLlambaShape& s, uint64_t seed, const std::string& name,
                                     const std::function<void(io::GgufWriter&)>& extra = {}) {
  core::Rng rng(seed);
  io::GgufWriter w;
  w.set("general.architecture", io::GgufValue::string("llamba"));
  w.set("general.name", io::GgufValue::string(name));
  w.set("llamba.block_count", io::GgufValue::u32((uint32_t)s.n_layers));
  w.set("llamba.embedding_length", io::GgufValue::u32((uint32_t)s.d_model));
  w.set("llamba.feed_forward_length", io::GgufValue::u32((uint32_t)s.ffn));
  w.set("llamba.ssm.inner_size", io::GgufValue::u32((uint32_t)s.d_inner));
  w.set("llamba.ssm.head_count", io::GgufValue::u32((uint32_t)s.n_heads));
  w.set("llamba.ssm.group_count", io::GgufValue::u32((uint32_t)s.n_groups));
  w.set("llamba.ssm.state_size", io::GgufValue::u32((uint32_t)s.d_state));
  w.set("llamba.ssm.conv_kernel", io::GgufValue::u32((uint32_t)s.conv));
  w.set("llamba.ssm.chunk_size", io::GgufValue::u32((uint32_t)s.chunk));
  const int64_t D = s.d_model, di = s.d_inner, GN = s.n_groups * s.d_state, Cc = di + 2 * GN,
                R = 2 * di + 2 * GN + s.n_heads;
  auto add = [&](const std::string& n, core::Shape shape, double scale, double offset = 0.0) {
    std::vector<float> v(shape.numel());
    for (auto& x : v) x = (float)(offset + scale * rng.normal());
    w.add_tensor(n, core::Tensor::from_f32(shape, v));
  };
  add("token_embd.weight", {s.vocab, D}, 1.0);
  for (int64_t l = 0; l < s.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", {D}, 0.1, 1.0);
    add(p + "ssm_in.weight", {R, D}, 1.0 / std::sqrt((double)D));
    add(p + "ssm_conv1d.weight", {Cc, s.conv}, 0.5);
    add(p + "ssm_conv1d.bias", {Cc}, 0.1);
    add(p + "ssm_z_bias", {di}, 0.3, 1.28);
    add(p + "ssm_d", {s.n_heads}, 0.5, 1.0);
    add(p + "ssm_out.weight", {D, di}, 1.0 / std::sqrt((double)di));
    add(p + "ffn_norm.weight", {D}, 0.1, 1.0);
    add(p + "ffn_gate.weight", {s.ffn, D}, 1.0 / std::sqrt((double)D));
    add(p + "ffn_up.weight", {s.ffn, D}, 1.0 / std::sqrt((double)D));
    add(p + "ffn_down.weight", {D, s.ffn}, 1.0 / std::sqrt((double)s.ffn));
  }
  add("output_norm.weight", {D}, 0.1, 1.0);
  if (!s.tied) add("output.weight", {s.vocab, D}, 1.0 / std::sqrt((double)D));
  if (extra) extra(w);
  const std::string path = test::temp_path("tiny_llamba_" + name + ".gguf").string();
  w.write(path);
  return path;
}

}  // namespace llamba::test
