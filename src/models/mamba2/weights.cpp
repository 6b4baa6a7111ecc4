// Mamba-2 config and weights from GGUF (keys under `mamba2.`, llama.cpp's names and shapes), every shape checked.
// ssm_a / ssm_d are stored (H, 1) and ssm_norm (G, d_inner/G) as llama.cpp writes them; flat (H) / (d_inner) are
// accepted too. Training files hold `ssm_a_log` (A_log, (H) or (H, 1)) instead of `ssm_a` (mamba2.h).
#include <cmath>

#include "models/blocks/weights_util.h"
#include "models/mamba2/mamba2.h"

namespace llamba::models::mamba2 {

namespace {

// An f32 tensor whose shape is one of `shapes` (all with `n` elements), viewed as `out_shape`.
core::TensorView f32_any_shape(const io::GgufFile& f, const std::string& name,
                               std::initializer_list<core::Shape> shapes, const core::Shape& out_shape,
                               bool required = true) {
  const io::GgufTensorInfo* info = f.find_tensor(name);
  std::string want;
  for (const core::Shape& s : shapes) want += (want.empty() ? "" : " or ") + s.str();
  if (!info) {
    LLAMBA_ENSURE(!required, "{}: missing tensor {} (expected shape {})", f.path(), name, want);
    return {};
  }
  bool ok = false;
  for (const core::Shape& s : shapes) ok = ok || info->shape == s;
  LLAMBA_ENSURE(ok, "{}: tensor {} has shape {}, expected {}", f.path(), name, info->shape.str(), want);
  LLAMBA_ENSURE(info->dtype == core::DType::kF32, "{}: tensor {} must be f32, found {}", f.path(), name,
                core::dtype_name(info->dtype));
  return f.tensor(*info).reshape(out_shape);
}

}  // namespace

Config Config::from_gguf(const io::GgufFile& f) {
  Config c;
  c.n_layers = require_dim(f, "mamba2.block_count", 4096);
  c.d_model = require_dim(f, "mamba2.embedding_length");
  c.d_inner = require_dim(f, "mamba2.ssm.inner_size");
  c.n_heads = require_dim(f, "mamba2.ssm.time_step_rank", 65536);  // llama.cpp stores H there
  c.n_groups = f.has("mamba2.ssm.group_count") ? require_dim(f, "mamba2.ssm.group_count", 65536) : 1;
  c.d_state = require_dim(f, "mamba2.ssm.state_size", 65536);
  c.conv_kernel = require_dim(f, "mamba2.ssm.conv_kernel", 64);
  c.chunk_size = f.has("mamba2.ssm.chunk_size") ? require_dim(f, "mamba2.ssm.chunk_size", 1 << 16) : 256;
  c.norm_eps = f.get_float("mamba2.attention.layer_norm_rms_epsilon", 1e-5);
  c.dt_min = (float)f.get_float("mamba2.ssm.dt_limit_min", 0.0);
  c.dt_max = (float)f.get_float("mamba2.ssm.dt_limit_max", std::numeric_limits<double>::infinity());
  LLAMBA_ENSURE(c.dt_min >= 0 && c.dt_min <= c.dt_max, "{}: mamba2.ssm.dt_limit_min/max = {}/{} is not a range in "
                "[0, inf]", f.path(), c.dt_min, c.dt_max);
  LLAMBA_ENSURE(c.d_inner % c.n_heads == 0, "{}: mamba2.ssm.inner_size {} is not a multiple of time_step_rank "
                "(head count) {}", f.path(), c.d_inner, c.n_heads);
  LLAMBA_ENSURE(c.n_heads % c.n_groups == 0 && c.d_inner % c.n_groups == 0,
                "{}: mamba2.ssm.group_count {} does not divide the head count {} and inner_size {}", f.path(),
                c.n_groups, c.n_heads, c.d_inner);
  c.head_dim = c.d_inner / c.n_heads;
  c.n_vocab = vocab_size(f);
  return c;
}

Weights Weights::from_gguf(const io::GgufFile& f, Config& c) {
  const int64_t D = c.d_model, di = c.d_inner, H = c.n_heads, G = c.n_groups, Cc = c.conv_channels();
  // d_mlp from ssm_in's rows (mamba_ssm derives it the same way): rows = 2·d_mlp + d_inner + Cc + H.
  const io::GgufTensorInfo* in0 = f.find_tensor(blk(0, "ssm_in.weight"));
  LLAMBA_ENSURE(in0 && in0->shape.rank() == 2, "{}: missing 2-D tensor {}", f.path(), blk(0, "ssm_in.weight"));
  const int64_t extra = in0->shape[0] - (di + Cc + H);
  LLAMBA_ENSURE(extra >= 0 && extra % 2 == 0, "{}: {} has {} rows; expected d_inner + Cc + H = {} plus an even "
                "number (2·d_mlp)", f.path(), blk(0, "ssm_in.weight"), in0->shape[0], di + Cc + H);
  c.d_mlp = extra / 2;
  Weights w;
  w.token_embd = require_weight(f, "token_embd.weight", {c.n_vocab, D}, WeightKind::kMatrix);
  w.output_norm = require_weight(f, "output_norm.weight", {D}, WeightKind::kF32);
  w.output = optional_weight(f, "output.weight", {c.n_vocab, D}, WeightKind::kMatrix);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    LayerWeights lw;
    lw.attn_norm = require_weight(f, blk(l, "attn_norm.weight"), {D}, WeightKind::kF32);
    lw.in_proj = require_weight(f, blk(l, "ssm_in.weight"), {c.in_proj_rows(), D}, WeightKind::kMatrix);
    lw.in_bias = optional_weight(f, blk(l, "ssm_in.bias"), {c.in_proj_rows()}, WeightKind::kF32);
    lw.conv_w = require_weight(f, blk(l, "ssm_conv1d.weight"), {Cc, c.conv_kernel}, WeightKind::kF32);
    lw.conv_b = optional_weight(f, blk(l, "ssm_conv1d.bias"), {Cc}, WeightKind::kF32);
    lw.dt_bias = require_weight(f, blk(l, "ssm_dt.bias"), {H}, WeightKind::kF32);
    if (f.find_tensor(blk(l, "ssm_a_log"))) {
      LLAMBA_ENSURE(!f.find_tensor(blk(l, "ssm_a")), "{}: both {} and {}: a file holds one form of A", f.path(),
                    blk(l, "ssm_a"), blk(l, "ssm_a_log"));
      lw.a_log = f32_any_shape(f, blk(l, "ssm_a_log"), {{H, 1}, {H}}, {H});
    } else {
      lw.a = f32_any_shape(f, blk(l, "ssm_a"), {{H, 1}, {H}}, {H});
    }
    lw.d = f32_any_shape(f, blk(l, "ssm_d"), {{H, 1}, {H}}, {H});
    lw.norm = f32_any_shape(f, blk(l, "ssm_norm.weight"), {{G, di / G}, {di}}, {G, di / G});
    lw.out_proj = require_weight(f, blk(l, "ssm_out.weight"), {D, c.out_proj_cols()}, WeightKind::kMatrix);
    lw.out_bias = optional_weight(f, blk(l, "ssm_out.bias"), {D}, WeightKind::kF32);
    for (int64_t h = 0; h < H && lw.a.data; ++h)
      LLAMBA_ENSURE(lw.a.f32()[h] <= 0, "{}: {}[{}] = {} > 0: ssm_a must hold A = −exp(A_log) (a decay)", f.path(),
                    blk(l, "ssm_a"), h, lw.a.f32()[h]);
    w.layers.push_back(lw);
  }
  return w;
}

void Weights::for_each(const TensorVisitor& visit) const {
  visit("token_embd.weight", token_embd);
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerWeights& lw = layers[l];
    visit(blk(l, "attn_norm.weight"), lw.attn_norm);
    visit(blk(l, "ssm_in.weight"), lw.in_proj);
    if (lw.in_bias.data) visit(blk(l, "ssm_in.bias"), lw.in_bias);
    visit(blk(l, "ssm_conv1d.weight"), lw.conv_w);
    if (lw.conv_b.data) visit(blk(l, "ssm_conv1d.bias"), lw.conv_b);
    visit(blk(l, "ssm_dt.bias"), lw.dt_bias);
    if (lw.a.data) visit(blk(l, "ssm_a"), lw.a);
    if (lw.a_log.data) visit(blk(l, "ssm_a_log"), lw.a_log);
    visit(blk(l, "ssm_d"), lw.d);
    visit(blk(l, "ssm_norm.weight"), lw.norm);
    visit(blk(l, "ssm_out.weight"), lw.out_proj);
    if (lw.out_bias.data) visit(blk(l, "ssm_out.bias"), lw.out_bias);
  }
  visit("output_norm.weight", output_norm);
  if (output.data) visit("output.weight", output);
}

}  // namespace llamba::models::mamba2
