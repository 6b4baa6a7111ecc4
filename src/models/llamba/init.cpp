// Random initialization of a Llamba model for training from a JSON config. The mixer follows MOHAWK's
// distillation init (docs/distillation.md §"The student"): z rows of in_proj 0 and z_bias 1.278464542761
// (silu = 1: the gate starts open), conv = identity on the current token, D = 1; other projections Linear-style
// uniform(±1/sqrt(fan_in)); embedding N(0, 0.02); out_proj and ffn_down scaled by 1/sqrt(2·L) (GPT-2's residual
// scaling).
#include <cmath>

#include "models/blocks/init_util.h"
#include "models/blocks/weights_util.h"
#include "models/llamba/llamba.h"

namespace llamba::models::llamba {

void write_init(const nlohmann::json& j, int64_t V, uint64_t seed, io::GgufWriter& w) {
  using namespace init;
  check_keys(j, {"d_model", "n_layers", "ffn", "n_heads", "n_groups", "d_state", "expand", "conv_kernel",
                 "chunk_size", "norm_eps", "tie_embeddings"},
             "llamba");
  const int64_t D = cfg_int(j, "d_model", 64), L = cfg_int(j, "n_layers", 2), F = cfg_int(j, "ffn", 4 * D);
  const int64_t H = cfg_int(j, "n_heads", 4), G = cfg_int(j, "n_groups", H), N = cfg_int(j, "d_state", 16);
  const int64_t di = cfg_int(j, "expand", 1) * D, K = cfg_int(j, "conv_kernel", 4);
  const bool tied = cfg_bool(j, "tie_embeddings", true);
  LLAMBA_ENSURE(D > 0 && L > 0 && F > 0 && H > 0 && G > 0 && N > 0 && K > 0 && V > 0, "llamba config: sizes must be > 0");
  LLAMBA_ENSURE(di % H == 0 && H % G == 0, "llamba config: d_inner {} / n_heads {} / n_groups {} must divide", di, H, G);
  w.set("general.architecture", io::GgufValue::string("llamba"));
  w.set("llamba.block_count", io::GgufValue::u32((uint32_t)L));
  w.set("llamba.embedding_length", io::GgufValue::u32((uint32_t)D));
  w.set("llamba.feed_forward_length", io::GgufValue::u32((uint32_t)F));
  w.set("llamba.vocab_size", io::GgufValue::u32((uint32_t)V));
  w.set("llamba.norm_epsilon", io::GgufValue::f32((float)cfg_float(j, "norm_eps", 1e-5)));
  w.set("llamba.attention.layer_norm_rms_epsilon", io::GgufValue::f32((float)cfg_float(j, "norm_eps", 1e-5)));
  w.set("llamba.ssm.inner_size", io::GgufValue::u32((uint32_t)di));
  w.set("llamba.ssm.head_count", io::GgufValue::u32((uint32_t)H));
  w.set("llamba.ssm.group_count", io::GgufValue::u32((uint32_t)G));
  w.set("llamba.ssm.state_size", io::GgufValue::u32((uint32_t)N));
  w.set("llamba.ssm.conv_kernel", io::GgufValue::u32((uint32_t)K));
  w.set("llamba.ssm.conv_activation", io::GgufValue::string("identity"));
  w.set("llamba.ssm.chunk_size", io::GgufValue::u32((uint32_t)cfg_int(j, "chunk_size", 64)));
  core::Rng rng(seed);
  const int64_t Cc = di + 2 * G * N, R = 2 * di + 2 * G * N + H;
  const double resid = 1.0 / std::sqrt(2.0 * L);
  add_normal(w, rng, "token_embd.weight", {V, D}, 0.02);
  for (int64_t l = 0; l < L; ++l) {
    add_const(w, blk(l, "attn_norm.weight"), {D}, 1.0f);
    std::vector<float> in((size_t)(R * D));
    const double a = 1.0 / std::sqrt((double)D);
    for (int64_t r = 0; r < R; ++r)
      for (int64_t c = 0; c < D; ++c)
        in[r * D + c] = (r >= Cc && r < Cc + di) ? 0.0f : (float)rng.uniform(-a, a);  // z rows start at 0
    w.add_tensor(blk(l, "ssm_in.weight"), core::Tensor::from_f32({R, D}, in));
    std::vector<float> conv((size_t)(Cc * K), 0.0f);
    for (int64_t c = 0; c < Cc; ++c) conv[c * K + K - 1] = 1.0f;
    w.add_tensor(blk(l, "ssm_conv1d.weight"), core::Tensor::from_f32({Cc, K}, conv));
    add_const(w, blk(l, "ssm_conv1d.bias"), {Cc}, 0.0f);
    add_const(w, blk(l, "ssm_z_bias"), {di}, 1.278464542761f);
    add_const(w, blk(l, "ssm_d"), {H}, 1.0f);
    add_uniform(w, rng, blk(l, "ssm_out.weight"), {D, di}, resid / std::sqrt((double)di));
    add_const(w, blk(l, "ffn_norm.weight"), {D}, 1.0f);
    add_uniform(w, rng, blk(l, "ffn_gate.weight"), {F, D}, 1.0 / std::sqrt((double)D));
    add_uniform(w, rng, blk(l, "ffn_up.weight"), {F, D}, 1.0 / std::sqrt((double)D));
    add_uniform(w, rng, blk(l, "ffn_down.weight"), {D, F}, resid / std::sqrt((double)F));
  }
  add_const(w, "output_norm.weight", {D}, 1.0f);
  if (!tied) add_normal(w, rng, "output.weight", {V, D}, 0.02);
}

}  // namespace llamba::models::llamba
