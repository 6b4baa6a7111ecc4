// Random-initialized GateLoop GGUF (for `llamba train --arch gateloop`, and tests).
// lucidrains' Transformer uses PyTorch defaults, which we follow: token embedding N(0, 1); every Linear weight and
// bias U(−1/√in, 1/√in) (kaiming_uniform(a=√5)); RMSNorm and LayerNorm gains 1, LayerNorm bias 0; untied head.
// The data-controlled transitions (polar, magphase, real) therefore start with the same W_a law as lucidrains'
// to_a. The fixed transition has no input to act on, so its per-gate constants follow RetNet/LRU-style spreading
// instead: decays γ_j = 1 − 2^{−e_j} with e_j evenly spaced over [1, 8] (γ from 0.5 to 0.996, polar's range
// [0.5, 1)), magnitude logits logit(γ_j), phases U(−π, π) (the law of arg z for polar at init).
#include <cmath>

#include "models/blocks/init_util.h"
#include "models/blocks/weights_util.h"
#include "models/gateloop/gateloop.h"

namespace llamba::models::gateloop {

void write_random_init(const Config& c, uint64_t seed, io::GgufWriter& w, bool tied) {
  using namespace init;
  LLAMBA_ENSURE(c.n_vocab > 0 && c.d_model > 0 && c.n_layers > 0 && c.ffn_dim > 0 && c.n_heads > 0 &&
                    c.d_inner % c.n_heads == 0 && (c.out_proj || c.d_inner == c.d_model),
                "[gateloop init] inconsistent config: V {} D {} L {} F {} d_inner {} H {}", c.n_vocab, c.d_model,
                c.n_layers, c.ffn_dim, c.d_inner, c.n_heads);
  LLAMBA_ENSURE(!(c.transition == Transition::kReal && c.complex), "[gateloop init] transition real with complex");
  LLAMBA_ENSURE(!(c.ffn == FfnKind::kSwiglu && c.ffn_bias), "[gateloop init] swiglu FFN has no biases");
  core::Rng rng(seed);
  c.to_gguf(w);
  w.set("x_llamba.init", io::GgufValue::string("gateloop random init, seed " + std::to_string(seed)));
  const int64_t D = c.d_model, di = c.d_inner, F = c.ffn_dim, V = c.n_vocab, A = c.a_rows(), Hg = c.n_gates();
  const double bD = 1.0 / std::sqrt((double)D), bI = 1.0 / std::sqrt((double)di), bF = 1.0 / std::sqrt((double)F);
  add_normal(w, rng, "token_embd.weight", {V, D}, 1.0);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    add_const(w, blk(l, "attn_norm.weight"), {D}, 1.0f);
    for (const char* n : {"gl_q.weight", "gl_k.weight", "gl_v.weight"}) add_uniform(w, rng, blk(l, n), {di, D}, bD);
    if (c.transition == Transition::kFixed) {
      std::vector<float> b(A);
      for (int64_t j = 0; j < Hg; ++j) {
        const double e = Hg > 1 ? 1.0 + 7.0 * (double)j / (double)(Hg - 1) : 4.0;
        const double gamma = 1.0 - std::exp2(-e);
        b[j] = (float)std::log(gamma / (1.0 - gamma));
        if (c.two_components()) b[Hg + j] = (float)rng.uniform(-M_PI, M_PI);
      }
      w.add_tensor(blk(l, "gl_a.bias"), core::Tensor::from_f32({A}, b));
    } else {
      add_uniform(w, rng, blk(l, "gl_a.weight"), {A, D}, bD);
      add_uniform(w, rng, blk(l, "gl_a.bias"), {A}, bD);
    }
    if (c.sub_norm) {
      add_const(w, blk(l, "gl_sub_norm.weight"), {di}, 1.0f);
      add_const(w, blk(l, "gl_sub_norm.bias"), {di}, 0.0f);
    }
    if (c.output_gate) add_uniform(w, rng, blk(l, "gl_g.weight"), {di, D}, bD);
    if (c.out_proj) add_uniform(w, rng, blk(l, "gl_out.weight"), {D, di}, bI);
    add_const(w, blk(l, "ffn_norm.weight"), {D}, 1.0f);
    if (c.ffn == FfnKind::kSwiglu) add_uniform(w, rng, blk(l, "ffn_gate.weight"), {F, D}, bD);
    add_uniform(w, rng, blk(l, "ffn_up.weight"), {F, D}, bD);
    if (c.ffn_bias) add_uniform(w, rng, blk(l, "ffn_up.bias"), {F}, bD);
    add_uniform(w, rng, blk(l, "ffn_down.weight"), {D, F}, bF);
    if (c.ffn_bias) add_uniform(w, rng, blk(l, "ffn_down.bias"), {D}, bF);
  }
  add_const(w, "output_norm.weight", {D}, 1.0f);
  if (!tied) add_uniform(w, rng, "output.weight", {V, D}, bD);
}

// JSON keys (`llamba train --config`): d_model (64), n_layers (2), ffn (4·d_model), d_inner (d_model), n_heads
// (d_inner: max-headed), transition ("polar"), complex (true; false for "real"), gate_kind ("scalar"),
// output_gate (true), sub_norm (false), out_proj (true), ffn_activation ("gelu"), norm_eps (1e-5), chunk_size (64),
// tied (false: an output matrix; true: the head is token_embd), transition_grad_scale (1.0; lucidrains trains
// with 0.9), train_recurrence ("recurrent" or "chunked": how training runs the recurrence). Parameter counts
// differ by transition (docs/architecture.md, "GateLoop transitions and parameter counts").
void write_init(const nlohmann::json& j, int64_t n_vocab, uint64_t seed, io::GgufWriter& w) {
  using namespace init;
  check_keys(j, {"d_model", "n_layers", "ffn", "d_inner", "n_heads", "transition", "complex", "gate_kind",
                 "output_gate", "sub_norm", "out_proj", "ffn_activation", "norm_eps", "chunk_size", "tied",
                 "transition_grad_scale", "train_recurrence"},
             "gateloop");
  Config c;
  c.n_vocab = n_vocab;
  c.d_model = cfg_int(j, "d_model", 64);
  c.n_layers = cfg_int(j, "n_layers", 2);
  c.ffn_dim = cfg_int(j, "ffn", 4 * c.d_model);
  c.d_inner = cfg_int(j, "d_inner", c.d_model);
  c.n_heads = cfg_int(j, "n_heads", c.d_inner);
  const std::string t = cfg_string(j, "transition", "polar");
  LLAMBA_ENSURE(t == "polar" || t == "magphase" || t == "real" || t == "fixed",
                "gateloop config: transition \"{}\" (polar, magphase, real or fixed)", t);
  c.transition = t == "polar"      ? Transition::kPolar
                 : t == "magphase" ? Transition::kMagPhase
                 : t == "real"     ? Transition::kReal
                                   : Transition::kFixed;
  c.complex = cfg_bool(j, "complex", c.transition != Transition::kReal);
  if (c.transition == Transition::kMagPhase && !c.complex) c.transition = Transition::kReal;
  const std::string gk = cfg_string(j, "gate_kind", "scalar");
  LLAMBA_ENSURE(gk == "scalar" || gk == "vector", "gateloop config: gate_kind \"{}\" (scalar or vector)", gk);
  c.gate_kind = gk == "scalar" ? ops::GateKind::kScalar : ops::GateKind::kVector;
  c.output_gate = cfg_bool(j, "output_gate", true);
  c.sub_norm = cfg_bool(j, "sub_norm", false);
  c.out_proj = cfg_bool(j, "out_proj", true);
  const std::string act = cfg_string(j, "ffn_activation", "gelu");
  LLAMBA_ENSURE(act == "gelu" || act == "swiglu", "gateloop config: ffn_activation \"{}\" (gelu or swiglu)", act);
  c.ffn = act == "gelu" ? FfnKind::kGelu : FfnKind::kSwiglu;
  c.ffn_bias = c.ffn == FfnKind::kGelu;
  c.norm_eps = cfg_float(j, "norm_eps", 1e-5);
  c.chunk_size = cfg_int(j, "chunk_size", 64);
  c.transition_grad_scale = cfg_float(j, "transition_grad_scale", 1.0);
  LLAMBA_ENSURE(c.transition_grad_scale >= 0 && c.transition_grad_scale <= 1,
                "gateloop config: transition_grad_scale {} (expected 0..1)", c.transition_grad_scale);
  const std::string tr = cfg_string(j, "train_recurrence", "recurrent");
  LLAMBA_ENSURE(tr == "recurrent" || tr == "chunked", "gateloop config: train_recurrence \"{}\" (recurrent or chunked)",
                tr);
  c.train_recurrence = tr == "chunked" ? ops::RecurrenceMode::kChunked : ops::RecurrenceMode::kRecurrent;
  LLAMBA_ENSURE(c.n_heads > 0 && c.d_inner % c.n_heads == 0, "gateloop config: d_inner {} / n_heads {} must divide",
                c.d_inner, c.n_heads);
  c.head_dim = c.d_inner / c.n_heads;
  write_random_init(c, seed, w, cfg_bool(j, "tied", false));
}

}  // namespace llamba::models::gateloop
