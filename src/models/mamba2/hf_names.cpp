// HF Mamba-2 (transformers `Mamba2ForCausalLM`, config.json `model_type` "mamba2") -> GGUF `mamba2` with llama.cpp's
// keys, names and shapes. Folds: A = −exp(A_log) into ssm_a (H, 1); D -> ssm_d (H, 1); dt_bias -> ssm_dt.bias;
// conv1d.weight (Cc, 1, K) -> (Cc, K); norm.weight (d_inner) -> ssm_norm.weight (G, d_inner/G); a missing conv1d.bias
// becomes zeros (llama.cpp requires the tensor). The head is tied unless config.json says otherwise. With
// ConvertOptions::training, A_log is kept as ssm_a_log (H, 1) instead (the training form; not a llama.cpp name) and
// a missing conv bias stays missing (no parameter the source model does not train).
#include <cmath>
#include <limits>

#include "models/blocks/weights_util.h"
#include "models/convert.h"

namespace llamba::models {

namespace {

// One number of config.json's `time_step_limit`: a JSON number, or transformers 5's {"__float__": "Infinity"}
// encoding of non-finite floats (json.dumps cannot write inf), or null (the default).
double limit_value(const io::HfCheckpoint& c, const nlohmann::json& v, double def) {
  if (v.is_null()) return def;
  if (v.is_number()) return v.get<double>();
  const nlohmann::json* s = v.is_object() && v.contains("__float__") ? &v["__float__"] : (v.is_string() ? &v : nullptr);
  if (s && s->is_string()) {
    const std::string t = s->get<std::string>();
    if (t == "Infinity" || t == "inf") return std::numeric_limits<double>::infinity();
    if (t == "-Infinity" || t == "-inf") return -std::numeric_limits<double>::infinity();
  }
  LLAMBA_THROW("{}/config.json: time_step_limit entry {} is not a number", c.dir(), v.dump());
}

}  // namespace

void convert_mamba2_hf(const io::HfCheckpoint& c, const ConvertOptions& o, io::GgufWriter& w) {
  const int64_t D = c.config_int("hidden_size"), L = c.config_int("num_hidden_layers");
  const int64_t H = c.config_int("num_heads"), P = c.config_int("head_dim"), N = c.config_int("state_size");
  const int64_t G = c.config_int("n_groups", 1), K = c.config_int("conv_kernel", 4);
  const int64_t di = H * P;
  LLAMBA_ENSURE(H > 0 && P > 0 && G > 0 && H % G == 0 && di % G == 0,
                "{}/config.json: num_heads {} / head_dim {} / n_groups {} do not divide", c.dir(), H, P, G);
  const std::string act = c.config_string("hidden_act", "silu");
  LLAMBA_ENSURE(act == "silu" || act == "swish", "{}/config.json: hidden_act \"{}\" is not supported (silu)", c.dir(),
                act);
  const bool tied = c.config_bool("tie_word_embeddings", false);
  double dt_min = 0.0, dt_max = std::numeric_limits<double>::infinity();
  if (c.config().contains("time_step_limit") && !c.config()["time_step_limit"].is_null()) {
    const nlohmann::json& lim = c.config()["time_step_limit"];
    LLAMBA_ENSURE(lim.is_array() && lim.size() == 2, "{}/config.json: time_step_limit must be [min, max]", c.dir());
    dt_min = limit_value(c, lim[0], 0.0);
    dt_max = limit_value(c, lim[1], dt_max);
    LLAMBA_ENSURE(dt_min >= 0 && dt_min <= dt_max,
                  "{}/config.json: time_step_limit [{}, {}] is not a range in [0, inf]", c.dir(), dt_min, dt_max);
  }
  // transformers names the embedding `embeddings` (plural); mamba_ssm's state dicts say `embedding`.
  const std::string emb =
      c.has("backbone.embeddings.weight") ? "backbone.embeddings.weight" : "backbone.embedding.weight";
  const int64_t V = convert::embedding_rows(c, emb, D);
  const int64_t Cc = di + 2 * G * N;
  // d_mlp > 0 only in mamba_ssm configs with d_ssm < d_inner: derived from the rows, as mamba_ssm does.
  const std::string in0 = "backbone.layers.0.mixer.in_proj.weight";
  const int64_t extra = c.tensor(in0).size(0) - (di + Cc + H);
  LLAMBA_ENSURE(extra >= 0 && extra % 2 == 0, "{}: {} has {} rows; config.json implies {} + 2·d_mlp",
                c.file_of(in0), in0, c.tensor(in0).size(0), di + Cc + H);
  const int64_t dm = extra / 2, R = 2 * dm + di + Cc + H;

  w.set("general.architecture", io::GgufValue::string("mamba2"));
  w.set("mamba2.block_count", io::GgufValue::u32((uint32_t)L));
  w.set("mamba2.embedding_length", io::GgufValue::u32((uint32_t)D));
  w.set("mamba2.vocab_size", io::GgufValue::u32((uint32_t)c.config_int("vocab_size", V)));
  // llama.cpp's loader reads these three for every architecture (its converter writes the same values).
  w.set("mamba2.context_length", io::GgufValue::u32(1u << 20));
  w.set("mamba2.feed_forward_length", io::GgufValue::u32(0));
  w.set("mamba2.attention.head_count", io::GgufValue::u32(0));
  w.set("mamba2.attention.layer_norm_rms_epsilon",
        io::GgufValue::f32((float)c.config_float("layer_norm_epsilon", 1e-5)));
  w.set("mamba2.ssm.conv_kernel", io::GgufValue::u32((uint32_t)K));
  w.set("mamba2.ssm.inner_size", io::GgufValue::u32((uint32_t)di));
  w.set("mamba2.ssm.state_size", io::GgufValue::u32((uint32_t)N));
  w.set("mamba2.ssm.time_step_rank", io::GgufValue::u32((uint32_t)H));
  w.set("mamba2.ssm.group_count", io::GgufValue::u32((uint32_t)G));
  w.set("mamba2.ssm.chunk_size", io::GgufValue::u32((uint32_t)c.config_int("chunk_size", 256)));
  if (dt_min > 0) w.set("mamba2.ssm.dt_limit_min", io::GgufValue::f32((float)dt_min));
  if (std::isfinite(dt_max)) w.set("mamba2.ssm.dt_limit_max", io::GgufValue::f32((float)dt_max));
  std::string folds = std::string(o.training ? "A_log->ssm_a_log (H,1)" : "A_log->ssm_a=-exp(A_log) (H,1)") +
                      "; D->(H,1); conv1d.weight (Cc,1,K)->(Cc,K); norm.weight->(G,d_inner/G)";

  using convert::add_tensor;
  using convert::expect_shape;
  const auto mt = [&](const std::string& n) { return convert::matrix_type(c, n, o); };
  add_tensor(w, c, emb, "token_embd.weight", {V, D}, mt(emb));
  for (int64_t l = 0; l < L; ++l) {
    const std::string p = "backbone.layers." + std::to_string(l) + ".";
    const convert::LayerTensors t(w, c, o, p, l);
    t.f32("norm.weight", "attn_norm.weight", {D}, {D});
    t.mat("mixer.in_proj.weight", "ssm_in.weight", {R, D});
    if (c.has(p + "mixer.in_proj.bias")) t.f32("mixer.in_proj.bias", "ssm_in.bias", {R}, {R});
    t.f32("mixer.conv1d.weight", "ssm_conv1d.weight", {Cc, 1, K}, {Cc, K});
    if (c.has(p + "mixer.conv1d.bias")) {
      t.f32("mixer.conv1d.bias", "ssm_conv1d.bias", {Cc}, {Cc});
    } else if (!o.training) {  // training keeps the parameter set as it is: no bias to learn
      w.add_tensor(blk(l, "ssm_conv1d.bias"), core::Tensor::zeros(core::DType::kF32, {Cc}));
      if (l == 0) folds += "; missing conv1d.bias = 0";
    }
    t.f32("mixer.dt_bias", "ssm_dt.bias", {H}, {H});
    if (o.training) {
      t.f32("mixer.A_log", "ssm_a_log", {H}, {H, 1});
    } else {
      t.f32("mixer.A_log", "ssm_a", {H}, {H, 1}, [](std::vector<float>& a) {
        for (float& v : a) v = -std::exp(v);
      });
    }
    t.f32("mixer.D", "ssm_d", {H}, {H, 1});
    t.f32("mixer.norm.weight", "ssm_norm.weight", {di}, {G, di / G});
    t.mat("mixer.out_proj.weight", "ssm_out.weight", {D, dm + di});
    if (c.has(p + "mixer.out_proj.bias")) t.f32("mixer.out_proj.bias", "ssm_out.bias", {D}, {D});
  }
  expect_shape(c, "backbone.norm_f.weight", {D});
  add_tensor(w, c, "backbone.norm_f.weight", "output_norm.weight", {D}, core::DType::kF32);
  if (!tied) {
    LLAMBA_ENSURE(c.has("lm_head.weight"), "{}: tie_word_embeddings is false but the checkpoint has no lm_head.weight",
                  c.dir());
    expect_shape(c, "lm_head.weight", {V, D});
    add_tensor(w, c, "lm_head.weight", "output.weight", {V, D}, mt("lm_head.weight"));
  }
  w.set("x_llamba.folds", io::GgufValue::string(folds));
}

}  // namespace llamba::models
