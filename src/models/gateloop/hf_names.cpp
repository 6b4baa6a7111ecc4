// lucidrains gateloop-transformer `Transformer` state dict (+ a config.json of its constructor arguments,
// model_type "gateloop"; tools/reference/make_gateloop_fixtures.py) -> GGUF `gateloop`. Folds: to_qkv split into
// gl_q | gl_k | gl_v; to_a's rows (re, im interleaved per head: row 2h = Re z_h, 2h+1 = Im z_h) de-interleaved
// to [Re | Im] (Re only under ablate_complex); RMSNorm F.normalize(x)·sqrt(D)·γ = rmsnorm with eps 1e-24/D.
#include "models/blocks/weights_util.h"
#include "models/convert.h"
#include "models/gateloop/gateloop.h"

namespace llamba::models {

void convert_gateloop_hf(const io::HfCheckpoint& c, const ConvertOptions& o, io::GgufWriter& w) {
  using gateloop::Config;
  // Constructor arguments we cannot represent are refused rather than silently converted wrong.
  LLAMBA_ENSURE(c.config_bool("use_gate_looped_attn", true),
                "{}/config.json: use_gate_looped_attn = false (softmax attention) is not a GateLoop model", c.dir());
  LLAMBA_ENSURE(!c.config_bool("post_ln_norm", false), "{}/config.json: post_ln_norm = true is not supported", c.dir());
  LLAMBA_ENSURE(!c.config_bool("ablate_state_transition", false),
                "{}/config.json: ablate_state_transition = true is not supported", c.dir());
  Config g;
  g.d_model = c.config_int("dim");
  g.n_layers = c.config_int("depth");
  g.d_inner = c.config_int("dim_gate_looped_attn", g.d_model);
  g.n_heads = c.config_int("gate_loop_heads", g.d_inner);
  g.ffn_dim = g.d_model * c.config_int("ff_mult", 4);
  g.transition = gateloop::Transition::kPolar;
  g.complex = !c.config_bool("ablate_complex", false);
  g.gate_kind = ops::GateKind::kScalar;  // one complex gate per head (max-headed: per channel)
  g.output_gate = c.config_bool("attn_add_swish_gating", true);
  g.sub_norm = c.config_bool("sub_ln", false);
  g.sub_norm_eps = 1e-5;  // nn.LayerNorm default
  g.out_proj = g.d_inner != g.d_model || g.output_gate;  // otherwise to_out is nn.Identity
  g.ffn = gateloop::FfnKind::kGelu;
  g.ffn_bias = true;
  // frac_gradient_state_transition (package default 0.9) only scales the transition's gradient: kept for training.
  g.transition_grad_scale = c.config_float("frac_gradient_state_transition", 0.9);
  // F.normalize divides by max(|x|, 1e-12): |x|/sqrt(D) = sqrt(mean x²), so eps on the mean square is 1e-24/D.
  g.norm_eps = 1e-24 / (double)g.d_model;
  const int64_t D = g.d_model, di = g.d_inner, H = g.n_heads, F = g.ffn_dim;
  LLAMBA_ENSURE(H > 0 && di % H == 0, "{}/config.json: dim_gate_looped_attn {} not divisible by gate_loop_heads {}",
                c.dir(), di, H);
  const std::string emb = "token_emb.weight";
  const int64_t V = convert::embedding_rows(c, emb, D);
  LLAMBA_ENSURE(V == c.config_int("num_tokens", V), "{}: embedding has {} rows, num_tokens is {}", c.file_of(emb), V,
                c.config_int("num_tokens", V));
  g.n_vocab = V;
  g.to_gguf(w);

  using convert::add_tensor;
  using convert::expect_shape;
  const auto mt = [&](const std::string& n) { return convert::matrix_type(c, n, o); };
  const auto seq = [](int64_t begin, int64_t end, int64_t step) {
    std::vector<int64_t> r;
    for (int64_t i = begin; i < end; i += step) r.push_back(i);
    return r;
  };
  add_tensor(w, c, emb, "token_embd.weight", {V, D}, mt(emb));
  for (int64_t l = 0; l < g.n_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    const convert::LayerTensors t(w, c, o, p, l);
    t.f32("0.norm.gamma", "attn_norm.weight", {D});
    const std::string qkv = p + "0.fn.to_qkv.weight";
    expect_shape(c, qkv, {3 * di, D});
    convert::add_tensor_rows(w, c, qkv, blk(l, "gl_q.weight"), {di, D}, seq(0, di, 1), mt(qkv));
    convert::add_tensor_rows(w, c, qkv, blk(l, "gl_k.weight"), {di, D}, seq(di, 2 * di, 1), mt(qkv));
    convert::add_tensor_rows(w, c, qkv, blk(l, "gl_v.weight"), {di, D}, seq(2 * di, 3 * di, 1), mt(qkv));
    // The transition stays f32 whatever --outtype: its rounding compounds through products of gates over time.
    std::vector<int64_t> a_rows = seq(0, 2 * H, 2);
    if (g.complex) {
      const auto im = seq(1, 2 * H, 2);
      a_rows.insert(a_rows.end(), im.begin(), im.end());
    }
    const int64_t A = (int64_t)a_rows.size();
    expect_shape(c, p + "0.fn.to_a.0.weight", {2 * H, D});
    expect_shape(c, p + "0.fn.to_a.0.bias", {2 * H});
    convert::add_tensor_rows(w, c, p + "0.fn.to_a.0.weight", blk(l, "gl_a.weight"), {A, D}, a_rows,
                             core::DType::kF32);
    convert::add_tensor_rows(w, c, p + "0.fn.to_a.0.bias", blk(l, "gl_a.bias"), {A}, a_rows, core::DType::kF32);
    if (g.sub_norm) {
      t.f32("0.fn.maybe_sub_ln.weight", "gl_sub_norm.weight", {di});
      t.f32("0.fn.maybe_sub_ln.bias", "gl_sub_norm.bias", {di});
    }
    if (g.output_gate) t.mat("0.fn.to_gates.0.weight", "gl_g.weight", {di, D});
    if (g.out_proj) t.mat("0.fn.to_out.weight", "gl_out.weight", {D, di});
    t.f32("1.norm.gamma", "ffn_norm.weight", {D});
    t.mat("1.fn.0.weight", "ffn_up.weight", {F, D});
    t.f32("1.fn.0.bias", "ffn_up.bias", {F});
    t.mat("1.fn.2.weight", "ffn_down.weight", {D, F});
    t.f32("1.fn.2.bias", "ffn_down.bias", {D});
  }
  expect_shape(c, "to_logits.0.gamma", {D});
  add_tensor(w, c, "to_logits.0.gamma", "output_norm.weight", {D}, core::DType::kF32);
  expect_shape(c, "to_logits.1.weight", {V, D});
  add_tensor(w, c, "to_logits.1.weight", "output.weight", {V, D}, mt("to_logits.1.weight"));
  w.set("x_llamba.folds",
        io::GgufValue::string(std::string("to_qkv -> gl_q|gl_k|gl_v; to_a rows (2h re, 2h+1 im) -> [re | im]") +
                              (g.complex ? "" : " (re only: ablate_complex)") +
                              "; RMSNorm F.normalize*sqrt(D)*gamma -> rmsnorm eps 1e-24/D; "
                              "frac_gradient_state_transition -> gateloop.transition_grad_scale (training "
                              "only; the forward is the identity up to rounding)"));
}

}  // namespace llamba::models
