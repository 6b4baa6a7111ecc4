// HF Llamba (cartesia-ai/Llamba-* layout, docs/models.md §"Llamba checkpoints") -> GGUF `llamba`. Folds: conv1d.weight
// (Cc, 1, K) -> (Cc, K); a missing conv1d.bias becomes zeros (cartesia's default is conv_bias=True); the head is
// `lm_head.weight` when the file has one, whatever tie_embeddings says (Llamba-8B ambiguity, same section).
#include <cstdio>

#include "models/blocks/weights_util.h"
#include "models/convert.h"

namespace llamba::models {

void convert_llamba_hf(const io::HfCheckpoint& c, const ConvertOptions& o, io::GgufWriter& w) {
  const int64_t D = c.config_int("d_model"), L = c.config_int("n_layer");
  const int64_t F = c.config_int("mlp_cfg.intermediate_size");
  const int64_t N = c.config_int("ssm_cfg.d_state"), H = c.config_int("ssm_cfg.n_v_heads");
  const int64_t G = c.config_int("ssm_cfg.n_qk_heads"), expand = c.config_int("ssm_cfg.expand", 1);
  const int64_t K = c.config_int("ssm_cfg.d_conv", 4);
  const int64_t di = expand * D;
  LLAMBA_ENSURE(H > 0 && G > 0 && di % H == 0 && H % G == 0,
                "{}/config.json: d_inner {} / n_v_heads {} / n_qk_heads {} do not divide", c.dir(), di, H, G);
  LLAMBA_ENSURE(!c.config_bool("ssm_cfg.bias", false), "{}/config.json: ssm_cfg.bias=true is not supported", c.dir());
  LLAMBA_ENSURE(!c.config_bool("lm_head_bias", false), "{}/config.json: lm_head_bias=true is not supported", c.dir());
  LLAMBA_ENSURE(!c.config_bool("mlp_cfg.bias", false), "{}/config.json: mlp_cfg.bias=true is not supported", c.dir());
  const std::string act_fn = c.config_string("mlp_cfg.act_fn", "silu");
  LLAMBA_ENSURE(act_fn == "silu", "{}/config.json: mlp_cfg.act_fn \"{}\" is not supported (silu)", c.dir(), act_fn);
  const std::string act = c.config_string("ssm_cfg.activation", "identity");
  LLAMBA_ENSURE(act == "identity" || act == "silu", "{}/config.json: ssm_cfg.activation \"{}\" (identity or silu)",
                c.dir(), act);
  const std::string emb = "backbone.embedding.weight";
  const int64_t V = convert::embedding_rows(c, emb, D);  // already padded to pad_vocab_size_multiple by the checkpoint
  LLAMBA_ENSURE(V >= c.config_int("vocab_size", V), "{}: embedding has {} rows < vocab_size {}", c.file_of(emb), V,
                c.config_int("vocab_size", V));
  const int64_t Cc = di + 2 * G * N, R = 2 * di + 2 * G * N + H;

  w.set("general.architecture", io::GgufValue::string("llamba"));
  w.set("llamba.block_count", io::GgufValue::u32((uint32_t)L));
  w.set("llamba.embedding_length", io::GgufValue::u32((uint32_t)D));
  w.set("llamba.feed_forward_length", io::GgufValue::u32((uint32_t)F));
  w.set("llamba.vocab_size", io::GgufValue::u32((uint32_t)c.config_int("vocab_size", V)));
  w.set("llamba.norm_epsilon", io::GgufValue::f32((float)c.config_float("norm_epsilon", 1e-5)));
  // The block norms of cartesia's Llamba hard-code eps 1e-5 (docs/models.md §"Block").
  w.set("llamba.attention.layer_norm_rms_epsilon", io::GgufValue::f32(1e-5f));
  w.set("llamba.ssm.inner_size", io::GgufValue::u32((uint32_t)di));
  w.set("llamba.ssm.head_count", io::GgufValue::u32((uint32_t)H));
  w.set("llamba.ssm.group_count", io::GgufValue::u32((uint32_t)G));
  w.set("llamba.ssm.state_size", io::GgufValue::u32((uint32_t)N));
  w.set("llamba.ssm.conv_kernel", io::GgufValue::u32((uint32_t)K));
  w.set("llamba.ssm.conv_activation", io::GgufValue::string(act));
  w.set("llamba.ssm.chunk_size", io::GgufValue::u32((uint32_t)c.config_int("ssm_cfg.chunk_size", 128)));
  std::string folds = "conv1d.weight (Cc,1,K)->(Cc,K)";

  using convert::add_tensor;
  using convert::expect_shape;
  const auto mt = [&](const std::string& n) { return convert::matrix_type(c, n, o); };
  add_tensor(w, c, emb, "token_embd.weight", {V, D}, mt(emb));
  for (int64_t l = 0; l < L; ++l) {
    const std::string p = "backbone.layers." + std::to_string(l) + ".";
    const convert::LayerTensors t(w, c, o, p, l);
    t.f32("input_layernorm.weight", "attn_norm.weight", {D}, {D});
    t.mat("mixer.in_proj.weight", "ssm_in.weight", {R, D});
    t.f32("mixer.z_bias", "ssm_z_bias", {di}, {di});
    t.f32("mixer.conv1d.weight", "ssm_conv1d.weight", {Cc, 1, K}, {Cc, K});
    if (c.has(p + "mixer.conv1d.bias")) {
      t.f32("mixer.conv1d.bias", "ssm_conv1d.bias", {Cc}, {Cc});
    } else if (l == 0) {
      std::fprintf(stderr, "llamba convert: %s: no conv1d.bias; using zeros\n", c.dir().c_str());
      folds += "; missing conv1d.bias = 0";
    }
    t.f32("mixer.D", "ssm_d", {H}, {H});
    t.mat("mixer.out_proj.weight", "ssm_out.weight", {D, di});
    t.f32("post_attention_layernorm.weight", "ffn_norm.weight", {D}, {D});
    t.mat("mlp.gate_proj.weight", "ffn_gate.weight", {F, D});
    t.mat("mlp.up_proj.weight", "ffn_up.weight", {F, D});
    t.mat("mlp.down_proj.weight", "ffn_down.weight", {D, F});
  }
  expect_shape(c, "backbone.final_layernorm.weight", {D});
  add_tensor(w, c, "backbone.final_layernorm.weight", "output_norm.weight", {D}, core::DType::kF32);
  if (c.has("lm_head.weight")) {
    expect_shape(c, "lm_head.weight", {V, D});
    add_tensor(w, c, "lm_head.weight", "output.weight", {V, D}, mt("lm_head.weight"));
  } else {
    LLAMBA_ENSURE(c.config_bool("tie_embeddings", false),
                  "{}: tie_embeddings is false but the checkpoint has no lm_head.weight", c.dir());
  }
  w.set("x_llamba.folds", io::GgufValue::string(folds));
}

}  // namespace llamba::models
