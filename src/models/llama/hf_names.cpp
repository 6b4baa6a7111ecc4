// HF LlamaForCausalLM -> GGUF `llama` (llama.cpp's keys and names): Q/K rows permuted for interleaved RoPE,
// llama3 rope scaling folded into a `rope_freqs.weight` factor tensor, `output.weight` only when untied.
#include <cmath>

#include "models/blocks/weights_util.h"
#include "models/convert.h"

namespace llamba::models {

namespace {

// llama.cpp's permute(): within each head, row i of the first half goes to 2i, of the second half to 2i + 1,
// turning transformers' rotate_half pairs (i, i + hd/2) into adjacent pairs (2i, 2i + 1).
convert::Transform permute_qk(int64_t n_heads, int64_t head_dim, int64_t cols) {
  return [=](std::vector<float>& w) {
    std::vector<float> out(w.size());
    const int64_t half = head_dim / 2;
    for (int64_t h = 0; h < n_heads; ++h)
      for (int64_t i = 0; i < half; ++i)
        for (int64_t j = 0; j < 2; ++j) {
          const float* src = w.data() + (h * head_dim + j * half + i) * cols;
          std::copy(src, src + cols, out.data() + (h * head_dim + 2 * i + j) * cols);
        }
    w.swap(out);
  };
}

// transformers' _compute_llama3_parameters as per-frequency divisors (llama.cpp's rope_freqs).
// `rope` is the config block holding the scaling: "rope_scaling" (transformers 4) or "rope_parameters" (5).
std::vector<float> llama3_rope_factors(const io::HfCheckpoint& c, const std::string& rope, int64_t rot_dim,
                                       double base) {
  const double factor = c.config_float(rope + ".factor", 8.0);
  const double low = c.config_float(rope + ".low_freq_factor", 1.0);
  const double high = c.config_float(rope + ".high_freq_factor", 4.0);
  const double orig = (double)c.config_int(rope + ".original_max_position_embeddings", 8192);
  const double low_wl = orig / low, high_wl = orig / high;
  std::vector<float> f(rot_dim / 2);
  for (int64_t i = 0; i < rot_dim / 2; ++i) {
    const double inv = 1.0 / std::pow(base, (double)(2 * i) / (double)rot_dim);
    const double wl = 2 * M_PI / inv;
    if (wl < high_wl) f[i] = 1.0f;
    else if (wl > low_wl) f[i] = (float)factor;
    else {
      const double s = (orig / wl - low) / (high - low);
      f[i] = (float)(1.0 / ((1 - s) / factor + s));
    }
  }
  return f;
}

}  // namespace

void convert_llama_hf(const io::HfCheckpoint& c, const ConvertOptions& o, io::GgufWriter& w) {
  const int64_t D = c.config_int("hidden_size"), L = c.config_int("num_hidden_layers");
  const int64_t F = c.config_int("intermediate_size"), Hq = c.config_int("num_attention_heads");
  LLAMBA_ENSURE(Hq > 0, "{}/config.json: num_attention_heads {} must be positive", c.dir(), Hq);
  const int64_t Hkv = c.config_int("num_key_value_heads", Hq), hd = c.config_int("head_dim", D / Hq);
  const int64_t V = c.config_int("vocab_size");
  // transformers 5 writes rope_theta and the scaling into "rope_parameters"; 4.x used top-level keys.
  const std::string rope = c.config_has("rope_parameters") ? "rope_parameters" : "rope_scaling";
  const double base = c.config_float("rope_theta", c.config_float("rope_parameters.rope_theta", 10000.0));
  LLAMBA_ENSURE(!c.config_bool("attention_bias", false) && !c.config_bool("mlp_bias", false),
                "{}/config.json: attention_bias / mlp_bias are not supported", c.dir());
  LLAMBA_ENSURE(Hkv > 0 && Hq % Hkv == 0,
                "{}/config.json: num_attention_heads {} is not a multiple of num_key_value_heads {}", c.dir(), Hq, Hkv);
  const bool tied = c.config_bool("tie_word_embeddings", false);
  w.set("general.architecture", io::GgufValue::string("llama"));
  w.set("llama.block_count", io::GgufValue::u32((uint32_t)L));
  w.set("llama.embedding_length", io::GgufValue::u32((uint32_t)D));
  w.set("llama.feed_forward_length", io::GgufValue::u32((uint32_t)F));
  w.set("llama.attention.head_count", io::GgufValue::u32((uint32_t)Hq));
  w.set("llama.attention.head_count_kv", io::GgufValue::u32((uint32_t)Hkv));
  w.set("llama.attention.key_length", io::GgufValue::u32((uint32_t)hd));
  w.set("llama.attention.value_length", io::GgufValue::u32((uint32_t)hd));
  w.set("llama.rope.dimension_count", io::GgufValue::u32((uint32_t)hd));
  w.set("llama.rope.freq_base", io::GgufValue::f32((float)base));
  w.set("llama.attention.layer_norm_rms_epsilon", io::GgufValue::f32((float)c.config_float("rms_norm_eps", 1e-6)));
  w.set("llama.context_length", io::GgufValue::u32((uint32_t)c.config_int("max_position_embeddings", 2048)));
  w.set("llama.vocab_size", io::GgufValue::u32((uint32_t)V));
  std::string folds = "q/k rows permuted for interleaved RoPE (llama.cpp permute)";
  const std::string rope_type = c.config_string(rope + ".rope_type", c.config_string(rope + ".type", ""));
  if (rope_type == "llama3") {
    // head_dim sizes the factor table: check it against the weights before computing it.
    LLAMBA_ENSURE(hd > 0 && hd % 2 == 0 && L >= 1, "{}/config.json: head_dim {} must be positive and even", c.dir(),
                  hd);
    convert::expect_shape(c, "model.layers.0.self_attn.q_proj.weight", {Hq * hd, D});
    const auto factors = llama3_rope_factors(c, rope, hd, base);
    w.add_tensor("rope_freqs.weight", core::Tensor::from_f32({hd / 2}, factors));
    folds += "; rope_scaling llama3 folded into rope_freqs.weight";
  } else {
    LLAMBA_ENSURE(rope_type.empty() || rope_type == "default", "{}/config.json: rope_scaling type \"{}\" is not supported",
                  c.dir(), rope_type);
  }
  w.set("x_llamba.folds", io::GgufValue::string(folds));

  using convert::add_tensor;
  using convert::expect_shape;
  const auto mt = [&](const std::string& n) { return convert::matrix_type(c, n, o); };
  const std::string emb = "model.embed_tokens.weight";
  expect_shape(c, emb, {V, D});
  add_tensor(w, c, emb, "token_embd.weight", {V, D}, mt(emb));
  for (int64_t l = 0; l < L; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const convert::LayerTensors t(w, c, o, p, l);
    t.f32("input_layernorm.weight", "attn_norm.weight", {D});
    t.mat("self_attn.q_proj.weight", "attn_q.weight", {Hq * hd, D}, permute_qk(Hq, hd, D));
    t.mat("self_attn.k_proj.weight", "attn_k.weight", {Hkv * hd, D}, permute_qk(Hkv, hd, D));
    t.mat("self_attn.v_proj.weight", "attn_v.weight", {Hkv * hd, D});
    t.mat("self_attn.o_proj.weight", "attn_output.weight", {D, Hq * hd});
    t.f32("post_attention_layernorm.weight", "ffn_norm.weight", {D});
    t.mat("mlp.gate_proj.weight", "ffn_gate.weight", {F, D});
    t.mat("mlp.up_proj.weight", "ffn_up.weight", {F, D});
    t.mat("mlp.down_proj.weight", "ffn_down.weight", {D, F});
  }
  expect_shape(c, "model.norm.weight", {D});
  add_tensor(w, c, "model.norm.weight", "output_norm.weight", {D}, core::DType::kF32);
  if (c.has("lm_head.weight") && !tied) {
    expect_shape(c, "lm_head.weight", {V, D});
    add_tensor(w, c, "lm_head.weight", "output.weight", {V, D}, mt("lm_head.weight"));
  }
}

}  // namespace llamba::models
