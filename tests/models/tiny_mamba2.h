// Builds small random Mamba-2 GGUF files (llama.cpp names and shapes) for mode-equivalence and state tests; shapes
// chosen by the caller (G > 1, P not a power of two, d_mlp > 0, biases, dt_limit included). Δ = softplus(dt +
// dt_bias) spans ~1e-3..1 and A = −exp(A_log) ∈ [−16, −1], so decays exp(Δ·A) cover (1e-4, 1).
#pragma once

#include <cmath>
#include <filesystem>
#include <string>

#include "core/rng.h"
#include "io/gguf.h"
#include "test_util.h"

namespace llamba::test {

struct TinyMamba2Shape {
  int64_t vocab = 96, d_model = 16, n_layers = 2, n_heads = 4, head_dim = 8, n_groups = 1, d_state = 16, conv = 4;
  int64_t d_mlp = 0;
  int64_t chunk = 16;
  bool tied = true, biases = false;
  float dt_min = 0, dt_max = 0;  // dt_max > 0: write a time_step_limit
};

inline std::string write_tiny_mamba2(const TinyMamba2Shape& s, uint64_t seed, const std::string& name) {
  core::Rng rng(seed);
  io::GgufWriter w;
  const int64_t D = s.d_model, di = s.n_heads * s.head_dim, H = s.n_heads, G = s.n_groups;
  const int64_t Cc = di + 2 * G * s.d_state, R = 2 * s.d_mlp + di + Cc + H;
  w.set("general.architecture", io::GgufValue::string("mamba2"));
  w.set("general.name", io::GgufValue::string(name));
  w.set("mamba2.block_count", io::GgufValue::u32((uint32_t)s.n_layers));
  w.set("mamba2.embedding_length", io::GgufValue::u32((uint32_t)D));
  w.set("mamba2.ssm.inner_size", io::GgufValue::u32((uint32_t)di));
  w.set("mamba2.ssm.time_step_rank", io::GgufValue::u32((uint32_t)H));
  w.set("mamba2.ssm.group_count", io::GgufValue::u32((uint32_t)G));
  w.set("mamba2.ssm.state_size", io::GgufValue::u32((uint32_t)s.d_state));
  w.set("mamba2.ssm.conv_kernel", io::GgufValue::u32((uint32_t)s.conv));
  w.set("mamba2.ssm.chunk_size", io::GgufValue::u32((uint32_t)s.chunk));
  w.set("mamba2.attention.layer_norm_rms_epsilon", io::GgufValue::f32(1e-5f));
  if (s.dt_max > 0) {
    w.set("mamba2.ssm.dt_limit_min", io::GgufValue::f32(s.dt_min));
    w.set("mamba2.ssm.dt_limit_max", io::GgufValue::f32(s.dt_max));
  }
  auto add_fn = [&](const std::string& n, core::Shape shape, auto gen) {
    std::vector<float> v(shape.numel());
    for (auto& x : v) x = (float)gen();
    w.add_tensor(n, core::Tensor::from_f32(shape, v));
  };
  auto add = [&](const std::string& n, core::Shape shape, double scale, double offset = 0.0) {
    add_fn(n, shape, [&] { return offset + scale * rng.normal(); });
  };
  add("token_embd.weight", {s.vocab, D}, 1.0);
  for (int64_t l = 0; l < s.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", {D}, 0.15, 1.0);
    add(p + "ssm_in.weight", {R, D}, 1.0 / std::sqrt((double)D));
    if (s.biases) add(p + "ssm_in.bias", {R}, 0.1);
    add(p + "ssm_conv1d.weight", {Cc, s.conv}, 0.4);
    add(p + "ssm_conv1d.bias", {Cc}, 0.2);
    add_fn(p + "ssm_dt.bias", {H}, [&] {  // softplus^-1 of dt ∈ [1e-3, 0.1], log-uniform
      const double dt = std::exp(std::log(1e-3) + rng.uniform() * (std::log(0.1) - std::log(1e-3)));
      return dt + std::log(-std::expm1(-dt));
    });
    add_fn(p + "ssm_a", {H, 1}, [&] { return -(1.0 + 15.0 * rng.uniform()); });
    add(p + "ssm_d", {H, 1}, 0.5, 1.0);
    add(p + "ssm_norm.weight", {G, di / G}, 0.15, 1.0);
    add(p + "ssm_out.weight", {D, s.d_mlp + di}, 0.5 / std::sqrt((double)(s.d_mlp + di)));
    if (s.biases) add(p + "ssm_out.bias", {D}, 0.1);
  }
  add("output_norm.weight", {D}, 0.15, 1.0);
  if (!s.tied) add("output.weight", {s.vocab, D}, 2.0 / std::sqrt((double)D));
  const std::string path = test::temp_path("mamba2_" + name + ".gguf").string();
  w.write(path);
  return path;
}

}  // namespace llamba::test
