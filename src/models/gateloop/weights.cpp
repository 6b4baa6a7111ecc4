// GateLoop config (keys under `gateloop.`, written and read here only) and weights from GGUF, every shape checked.
#include "models/blocks/weights_util.h"
#include "models/gateloop/gateloop.h"

namespace llamba::models::gateloop {

namespace {
using io::GgufValue;

Transition parse_transition(const io::GgufFile& f, const std::string& s) {
  if (s == "polar") return Transition::kPolar;
  if (s == "magphase") return Transition::kMagPhase;
  if (s == "real") return Transition::kReal;
  if (s == "fixed") return Transition::kFixed;
  LLAMBA_THROW("{}: gateloop.transition \"{}\" (expected polar, magphase, real or fixed)", f.path(), s);
}
}  // namespace

const char* transition_name(Transition t) {
  constexpr const char* kNames[] = {"polar", "magphase", "real", "fixed"};
  return kNames[static_cast<int>(t)];
}

Config Config::from_gguf(const io::GgufFile& f) {
  Config c;
  c.n_layers = require_dim(f, "gateloop.block_count", 4096);
  c.d_model = require_dim(f, "gateloop.embedding_length");
  c.ffn_dim = require_dim(f, "gateloop.feed_forward_length");
  c.d_inner = require_dim(f, "gateloop.inner_size");
  c.n_heads = require_dim(f, "gateloop.head_count", 1 << 20);
  c.norm_eps = f.get_float("gateloop.attention.layer_norm_rms_epsilon", 1e-5);
  c.sub_norm_eps = f.get_float("gateloop.sub_norm_epsilon", 1e-5);
  c.chunk_size = f.has("gateloop.chunk_size") ? require_dim(f, "gateloop.chunk_size", 1 << 16) : 64;
  c.transition_grad_scale = f.get_float("gateloop.transition_grad_scale", 1.0);
  const std::string tr = f.get_string("gateloop.train_recurrence", "recurrent");
  LLAMBA_ENSURE(tr == "recurrent" || tr == "chunked", "{}: gateloop.train_recurrence \"{}\" (recurrent or chunked)",
                f.path(), tr);
  c.train_recurrence = tr == "chunked" ? ops::RecurrenceMode::kChunked : ops::RecurrenceMode::kRecurrent;
  LLAMBA_ENSURE(c.transition_grad_scale >= 0 && c.transition_grad_scale <= 1,
                "{}: gateloop.transition_grad_scale {} (expected 0..1)", f.path(), c.transition_grad_scale);
  c.transition = parse_transition(f, f.get_string("gateloop.transition"));
  c.complex = f.get_bool("gateloop.complex", c.transition != Transition::kReal);
  LLAMBA_ENSURE(!(c.transition == Transition::kReal && c.complex),
                "{}: gateloop.transition \"real\" has no phase; gateloop.complex must be false", f.path());
  if (c.transition == Transition::kMagPhase && !c.complex) c.transition = Transition::kReal;  // documented alias
  const std::string gk = f.get_string("gateloop.gate_kind", "scalar");
  LLAMBA_ENSURE(gk == "scalar" || gk == "vector", "{}: gateloop.gate_kind \"{}\" (scalar or vector)", f.path(), gk);
  c.gate_kind = gk == "scalar" ? ops::GateKind::kScalar : ops::GateKind::kVector;
  c.output_gate = f.get_bool("gateloop.output_gate", true);
  c.sub_norm = f.get_bool("gateloop.sub_norm", false);
  c.out_proj = f.get_bool("gateloop.out_proj", true);
  const std::string act = f.get_string("gateloop.ffn_activation", "gelu");
  LLAMBA_ENSURE(act == "gelu" || act == "swiglu", "{}: gateloop.ffn_activation \"{}\" (gelu or swiglu)", f.path(), act);
  c.ffn = act == "gelu" ? FfnKind::kGelu : FfnKind::kSwiglu;
  c.ffn_bias = f.get_bool("gateloop.ffn_bias", c.ffn == FfnKind::kGelu);
  LLAMBA_ENSURE(!(c.ffn == FfnKind::kSwiglu && c.ffn_bias), "{}: gateloop.ffn_bias with swiglu is not supported",
                f.path());
  LLAMBA_ENSURE(c.d_inner % c.n_heads == 0, "{}: gateloop.inner_size {} is not a multiple of head_count {}", f.path(),
                c.d_inner, c.n_heads);
  LLAMBA_ENSURE(c.out_proj || c.d_inner == c.d_model,
                "{}: gateloop.out_proj = false needs inner_size ({}) == embedding_length ({})", f.path(), c.d_inner,
                c.d_model);
  c.head_dim = c.d_inner / c.n_heads;
  c.n_vocab = vocab_size(f);
  return c;
}

void Config::to_gguf(io::GgufWriter& w) const {
  w.set("general.architecture", GgufValue::string("gateloop"));
  w.set("gateloop.block_count", GgufValue::u32((uint32_t)n_layers));
  w.set("gateloop.embedding_length", GgufValue::u32((uint32_t)d_model));
  w.set("gateloop.feed_forward_length", GgufValue::u32((uint32_t)ffn_dim));
  w.set("gateloop.attention.layer_norm_rms_epsilon", GgufValue::f32((float)norm_eps));
  w.set("gateloop.inner_size", GgufValue::u32((uint32_t)d_inner));
  w.set("gateloop.head_count", GgufValue::u32((uint32_t)n_heads));
  w.set("gateloop.transition", GgufValue::string(transition_name(transition)));
  w.set("gateloop.complex", GgufValue::boolean(complex));
  w.set("gateloop.gate_kind", GgufValue::string(gate_kind == ops::GateKind::kScalar ? "scalar" : "vector"));
  w.set("gateloop.output_gate", GgufValue::boolean(output_gate));
  w.set("gateloop.sub_norm", GgufValue::boolean(sub_norm));
  if (sub_norm) w.set("gateloop.sub_norm_epsilon", GgufValue::f32((float)sub_norm_eps));
  w.set("gateloop.out_proj", GgufValue::boolean(out_proj));
  w.set("gateloop.ffn_activation", GgufValue::string(ffn == FfnKind::kGelu ? "gelu" : "swiglu"));
  w.set("gateloop.ffn_bias", GgufValue::boolean(ffn_bias));
  w.set("gateloop.chunk_size", GgufValue::u32((uint32_t)chunk_size));
  w.set("gateloop.transition_grad_scale", GgufValue::f32((float)transition_grad_scale));
  w.set("gateloop.train_recurrence",
        GgufValue::string(train_recurrence == ops::RecurrenceMode::kChunked ? "chunked" : "recurrent"));
}

Weights Weights::from_gguf(const io::GgufFile& f, const Config& c) {
  const int64_t D = c.d_model, F = c.ffn_dim, di = c.d_inner, A = c.a_rows();
  constexpr auto kM = WeightKind::kMatrix, kF = WeightKind::kF32;
  Weights w;
  w.token_embd = require_weight(f, "token_embd.weight", {c.n_vocab, D}, kM);
  w.output_norm = require_weight(f, "output_norm.weight", {D}, kF);
  w.output = optional_weight(f, "output.weight", {c.n_vocab, D}, kM);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    LayerWeights lw;
    lw.attn_norm = require_weight(f, blk(l, "attn_norm.weight"), {D}, kF);
    lw.q = require_weight(f, blk(l, "gl_q.weight"), {di, D}, kM);
    lw.k = require_weight(f, blk(l, "gl_k.weight"), {di, D}, kM);
    lw.v = require_weight(f, blk(l, "gl_v.weight"), {di, D}, kM);
    if (c.transition == Transition::kFixed) {
      LLAMBA_ENSURE(!f.find_tensor(blk(l, "gl_a.weight")), "{}: {} present but gateloop.transition is \"fixed\"",
                    f.path(), blk(l, "gl_a.weight"));
      lw.a_b = require_weight(f, blk(l, "gl_a.bias"), {A}, kF);
    } else {
      lw.a_w = require_weight(f, blk(l, "gl_a.weight"), {A, D}, kM);
      lw.a_b = optional_weight(f, blk(l, "gl_a.bias"), {A}, kF);
    }
    if (c.sub_norm) {
      lw.sub_norm_w = require_weight(f, blk(l, "gl_sub_norm.weight"), {di}, kF);
      lw.sub_norm_b = optional_weight(f, blk(l, "gl_sub_norm.bias"), {di}, kF);
    }
    if (c.output_gate) lw.g = require_weight(f, blk(l, "gl_g.weight"), {di, D}, kM);
    if (c.out_proj) lw.out = require_weight(f, blk(l, "gl_out.weight"), {D, di}, kM);
    lw.ffn_norm = require_weight(f, blk(l, "ffn_norm.weight"), {D}, kF);
    if (c.ffn == FfnKind::kSwiglu) lw.ffn_gate = require_weight(f, blk(l, "ffn_gate.weight"), {F, D}, kM);
    lw.ffn_up = require_weight(f, blk(l, "ffn_up.weight"), {F, D}, kM);
    lw.ffn_down = require_weight(f, blk(l, "ffn_down.weight"), {D, F}, kM);
    if (c.ffn_bias) {
      lw.ffn_up_b = require_weight(f, blk(l, "ffn_up.bias"), {F}, kF);
      lw.ffn_down_b = require_weight(f, blk(l, "ffn_down.bias"), {D}, kF);
    }
    w.layers.push_back(lw);
  }
  return w;
}

void Weights::for_each(const TensorVisitor& visit) const {
  const auto opt = [&](const std::string& n, const core::TensorView& t) {
    if (t.data) visit(n, t);
  };
  visit("token_embd.weight", token_embd);
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerWeights& lw = layers[l];
    visit(blk(l, "attn_norm.weight"), lw.attn_norm);
    visit(blk(l, "gl_q.weight"), lw.q);
    visit(blk(l, "gl_k.weight"), lw.k);
    visit(blk(l, "gl_v.weight"), lw.v);
    opt(blk(l, "gl_a.weight"), lw.a_w);
    opt(blk(l, "gl_a.bias"), lw.a_b);
    opt(blk(l, "gl_sub_norm.weight"), lw.sub_norm_w);
    opt(blk(l, "gl_sub_norm.bias"), lw.sub_norm_b);
    opt(blk(l, "gl_g.weight"), lw.g);
    opt(blk(l, "gl_out.weight"), lw.out);
    visit(blk(l, "ffn_norm.weight"), lw.ffn_norm);
    opt(blk(l, "ffn_gate.weight"), lw.ffn_gate);
    visit(blk(l, "ffn_up.weight"), lw.ffn_up);
    opt(blk(l, "ffn_up.bias"), lw.ffn_up_b);
    visit(blk(l, "ffn_down.weight"), lw.ffn_down);
    opt(blk(l, "ffn_down.bias"), lw.ffn_down_b);
  }
  visit("output_norm.weight", output_norm);
  opt("output.weight", output);
}

}  // namespace llamba::models::gateloop
