// Random initialization of a Mamba-2 model for training from a JSON config, following mamba_ssm 2.3.2's
// `Mamba2.__init__` + `MixerModel`'s `_init_weights` (rescale_prenorm_residual, no MLP):
//   embedding N(0, 0.02); in_proj U(±1/sqrt(D)) (torch Linear default), its bias (if any) 0; conv1d weight and bias
//   U(±1/sqrt(K)) (torch Conv1d default, fan_in = K for a depthwise conv); dt_bias = softplus⁻¹(dt) with
//   dt = exp(U(log dt_min, log dt_max)) floored at dt_init_floor; A_log = log U(a_init_min, a_init_max); D = 1;
//   norm weights 1; out_proj U(±1/sqrt(d_inner)) / sqrt(L) (GPT-2 residual scaling, one residual per layer), its
//   bias 0; an untied head U(±1/sqrt(D)) (torch Linear default).
// The decay rate is written in its training form `ssm_a_log` (A_log; mamba2.h): the optimizer updates A_log, as
// mamba_ssm's training does, and A = −exp(A_log) stays negative whatever the step.
#include <cmath>

#include "models/blocks/init_util.h"
#include "models/blocks/weights_util.h"
#include "models/mamba2/mamba2.h"

namespace llamba::models::mamba2 {

void write_init(const nlohmann::json& j, int64_t V, uint64_t seed, io::GgufWriter& w) {
  using namespace init;
  check_keys(j, {"d_model", "n_layers", "expand", "head_dim", "n_groups", "d_state", "conv_kernel", "chunk_size",
                 "norm_eps", "tie_embeddings", "bias", "conv_bias", "dt_min", "dt_max", "dt_init_floor", "a_init_min",
                 "a_init_max", "dt_limit_min", "dt_limit_max"},
             "mamba2");
  const int64_t D = cfg_int(j, "d_model", 64), L = cfg_int(j, "n_layers", 2), di = cfg_int(j, "expand", 2) * D;
  const int64_t P = cfg_int(j, "head_dim", 16), G = cfg_int(j, "n_groups", 1), N = cfg_int(j, "d_state", 16);
  const int64_t K = cfg_int(j, "conv_kernel", 4);
  const bool tied = cfg_bool(j, "tie_embeddings", true), bias = cfg_bool(j, "bias", false);
  const bool conv_bias = cfg_bool(j, "conv_bias", true);
  const double dt_min = cfg_float(j, "dt_min", 1e-3), dt_max = cfg_float(j, "dt_max", 0.1);
  const double dt_floor = cfg_float(j, "dt_init_floor", 1e-4);
  const double a_min = cfg_float(j, "a_init_min", 1.0), a_max = cfg_float(j, "a_init_max", 16.0);
  const double lim_lo = cfg_float(j, "dt_limit_min", 0.0), lim_hi = cfg_float(j, "dt_limit_max", INFINITY);
  LLAMBA_ENSURE(D > 0 && L > 0 && di > 0 && P > 0 && G > 0 && N > 0 && K > 0 && V > 0,
                "mamba2 config: sizes must be > 0");
  LLAMBA_ENSURE(di % P == 0 && (di / P) % G == 0, "mamba2 config: d_inner {} = expand·d_model must be a multiple of "
                "head_dim {}, and the head count a multiple of n_groups {}", di, P, G);
  LLAMBA_ENSURE(0 < dt_min && dt_min <= dt_max && dt_floor >= 0 && 0 < a_min && a_min <= a_max,
                "mamba2 config: need 0 < dt_min <= dt_max, dt_init_floor >= 0, 0 < a_init_min <= a_init_max");
  LLAMBA_ENSURE(0 <= lim_lo && lim_lo <= lim_hi, "mamba2 config: need 0 <= dt_limit_min <= dt_limit_max");
  const int64_t H = di / P, Cc = di + 2 * G * N, R = di + Cc + H;
  w.set("general.architecture", io::GgufValue::string("mamba2"));
  w.set("mamba2.block_count", io::GgufValue::u32((uint32_t)L));
  w.set("mamba2.embedding_length", io::GgufValue::u32((uint32_t)D));
  w.set("mamba2.vocab_size", io::GgufValue::u32((uint32_t)V));
  // llama.cpp's loader reads these three for every architecture (as the converter writes them).
  w.set("mamba2.context_length", io::GgufValue::u32(1u << 20));
  w.set("mamba2.feed_forward_length", io::GgufValue::u32(0));
  w.set("mamba2.attention.head_count", io::GgufValue::u32(0));
  w.set("mamba2.attention.layer_norm_rms_epsilon", io::GgufValue::f32((float)cfg_float(j, "norm_eps", 1e-5)));
  w.set("mamba2.ssm.conv_kernel", io::GgufValue::u32((uint32_t)K));
  w.set("mamba2.ssm.inner_size", io::GgufValue::u32((uint32_t)di));
  w.set("mamba2.ssm.state_size", io::GgufValue::u32((uint32_t)N));
  w.set("mamba2.ssm.time_step_rank", io::GgufValue::u32((uint32_t)H));
  w.set("mamba2.ssm.group_count", io::GgufValue::u32((uint32_t)G));
  w.set("mamba2.ssm.chunk_size", io::GgufValue::u32((uint32_t)cfg_int(j, "chunk_size", 64)));
  if (lim_lo > 0) w.set("mamba2.ssm.dt_limit_min", io::GgufValue::f32((float)lim_lo));
  if (std::isfinite(lim_hi)) w.set("mamba2.ssm.dt_limit_max", io::GgufValue::f32((float)lim_hi));

  core::Rng rng(seed);
  add_normal(w, rng, "token_embd.weight", {V, D}, 0.02);
  for (int64_t l = 0; l < L; ++l) {
    add_const(w, blk(l, "attn_norm.weight"), {D}, 1.0f);
    add_uniform(w, rng, blk(l, "ssm_in.weight"), {R, D}, 1.0 / std::sqrt((double)D));
    if (bias) add_const(w, blk(l, "ssm_in.bias"), {R}, 0.0f);
    add_uniform(w, rng, blk(l, "ssm_conv1d.weight"), {Cc, K}, 1.0 / std::sqrt((double)K));
    if (conv_bias) add_uniform(w, rng, blk(l, "ssm_conv1d.bias"), {Cc}, 1.0 / std::sqrt((double)K));
    std::vector<float> dt_bias(H), a_log(H);
    for (int64_t h = 0; h < H; ++h) {
      const double dt = std::max(std::exp(rng.uniform(std::log(dt_min), std::log(dt_max))), dt_floor);
      dt_bias[h] = (float)(dt + std::log(-std::expm1(-dt)));  // softplus⁻¹(dt)
    }
    for (int64_t h = 0; h < H; ++h) a_log[h] = (float)std::log(rng.uniform(a_min, a_max));
    w.add_tensor(blk(l, "ssm_dt.bias"), core::Tensor::from_f32({H}, dt_bias));
    w.add_tensor(blk(l, "ssm_a_log"), core::Tensor::from_f32({H, 1}, a_log));
    add_const(w, blk(l, "ssm_d"), {H, 1}, 1.0f);
    add_const(w, blk(l, "ssm_norm.weight"), {G, di / G}, 1.0f);
    add_uniform(w, rng, blk(l, "ssm_out.weight"), {D, di}, 1.0 / std::sqrt((double)di * (double)L));
    if (bias) add_const(w, blk(l, "ssm_out.bias"), {D}, 0.0f);
  }
  add_const(w, "output_norm.weight", {D}, 1.0f);
  if (!tied) add_uniform(w, rng, "output.weight", {V, D}, 1.0 / std::sqrt((double)D));
}

}  // namespace llamba::models::mamba2
