// Random-initialized GateLoop GGUF (for `llamba train --arch gateloop` and tests). lucidrains' Transformer uses
// PyTorch defaults, which we follow: token embedding N(0, 1); every Linear weight and bias U(−1/√in, 1/√in)
// (kaiming_uniform(a=√5)); RMSNorm and LayerNorm gains 1, LayerNorm bias 0; untied head. The data-controlled
// transitions (polar, magphase, real) therefore start with the same W_a law as lucidrains' to_a. The fixed
// transition has no input to act on, so its per-gate constants follow RetNet/LRU-style spreading instead:
// decays γ_j = 1 − 2^{−e_j} with e_j evenly spaced over [1, 8] (γ from 0.5 to 0.996, polar's range [0.5, 1)),
// magnitude logits logit(γ_j), phases U(−π, π) (the law of arg z for polar at init).
#include <cmath>

#include "core/rng.h"
#include "models/blocks/weights_util.h"
#include "models/gateloop/gateloop.h"

namespace llamba::models::gateloop {

namespace {
using core::Tensor;

Tensor uniform(core::Rng& rng, const core::Shape& s, double bound) {
  std::vector<float> v(s.numel());
  for (auto& x : v) x = (float)rng.uniform(-bound, bound);
  return Tensor::from_f32(s, v);
}
Tensor filled(const core::Shape& s, float value) { return Tensor::from_f32(s, std::vector<float>(s.numel(), value)); }
}  // namespace

void write_random_init(const Config& c, uint64_t seed, io::GgufWriter& w) {
  LLAMBA_ENSURE(c.n_vocab > 0 && c.d_model > 0 && c.n_layers > 0 && c.ffn_dim > 0 && c.n_heads > 0 &&
                    c.d_inner % c.n_heads == 0 && (c.out_proj || c.d_inner == c.d_model),
                "[gateloop init] inconsistent config: V {} D {} L {} F {} d_inner {} H {}", c.n_vocab, c.d_model,
                c.n_layers, c.ffn_dim, c.d_inner, c.n_heads);
  LLAMBA_ENSURE(!(c.transition == Transition::kReal && c.complex), "[gateloop init] transition real with complex");
  core::Rng rng(seed);
  c.to_gguf(w);
  w.set("x_llamba.init", io::GgufValue::string("gateloop random init, seed " + std::to_string(seed)));
  const int64_t D = c.d_model, di = c.d_inner, F = c.ffn_dim, V = c.n_vocab, A = c.a_rows(), Hg = c.n_gates();
  const double bD = 1.0 / std::sqrt((double)D), bI = 1.0 / std::sqrt((double)di), bF = 1.0 / std::sqrt((double)F);
  std::vector<float> emb(V * D);
  for (auto& x : emb) x = (float)rng.normal();
  w.add_tensor("token_embd.weight", Tensor::from_f32({V, D}, emb));
  for (int64_t l = 0; l < c.n_layers; ++l) {
    w.add_tensor(blk(l, "attn_norm.weight"), filled({D}, 1.0f));
    for (const char* n : {"gl_q.weight", "gl_k.weight", "gl_v.weight"})
      w.add_tensor(blk(l, n), uniform(rng, {di, D}, bD));
    if (c.transition == Transition::kFixed) {
      std::vector<float> b(A);
      for (int64_t j = 0; j < Hg; ++j) {
        const double e = Hg > 1 ? 1.0 + 7.0 * (double)j / (double)(Hg - 1) : 4.0;
        const double gamma = 1.0 - std::exp2(-e);
        b[j] = (float)std::log(gamma / (1.0 - gamma));
        if (c.two_components()) b[Hg + j] = (float)rng.uniform(-M_PI, M_PI);
      }
      w.add_tensor(blk(l, "gl_a.bias"), Tensor::from_f32({A}, b));
    } else {
      w.add_tensor(blk(l, "gl_a.weight"), uniform(rng, {A, D}, bD));
      w.add_tensor(blk(l, "gl_a.bias"), uniform(rng, {A}, bD));
    }
    if (c.sub_norm) {
      w.add_tensor(blk(l, "gl_sub_norm.weight"), filled({di}, 1.0f));
      w.add_tensor(blk(l, "gl_sub_norm.bias"), filled({di}, 0.0f));
    }
    if (c.output_gate) w.add_tensor(blk(l, "gl_g.weight"), uniform(rng, {di, D}, bD));
    if (c.out_proj) w.add_tensor(blk(l, "gl_out.weight"), uniform(rng, {D, di}, bI));
    w.add_tensor(blk(l, "ffn_norm.weight"), filled({D}, 1.0f));
    if (c.ffn == FfnKind::kSwiglu) w.add_tensor(blk(l, "ffn_gate.weight"), uniform(rng, {F, D}, bD));
    w.add_tensor(blk(l, "ffn_up.weight"), uniform(rng, {F, D}, bD));
    if (c.ffn_bias) w.add_tensor(blk(l, "ffn_up.bias"), uniform(rng, {F}, bD));
    w.add_tensor(blk(l, "ffn_down.weight"), uniform(rng, {D, F}, bF));
    if (c.ffn_bias) w.add_tensor(blk(l, "ffn_down.bias"), uniform(rng, {D}, bF));
  }
  w.add_tensor("output_norm.weight", filled({D}, 1.0f));
  w.add_tensor("output.weight", uniform(rng, {V, D}, bD));
}

}  // namespace llamba::models::gateloop
