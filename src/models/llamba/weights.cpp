// Llamba config and weights from GGUF (keys under `llamba.`), every shape checked.
#include "models/blocks/weights_util.h"
#include "models/llamba/llamba.h"

namespace llamba::models::llamba {

Config Config::from_gguf(const io::GgufFile& f) {
  Config c;
  c.n_layers = require_dim(f, "llamba.block_count", 4096);
  c.d_model = require_dim(f, "llamba.embedding_length");
  c.ffn_dim = require_dim(f, "llamba.feed_forward_length");
  c.d_inner = require_dim(f, "llamba.ssm.inner_size");
  c.n_heads = require_dim(f, "llamba.ssm.head_count", 65536);
  c.n_groups = require_dim(f, "llamba.ssm.group_count", 65536);
  c.d_state = require_dim(f, "llamba.ssm.state_size", 65536);
  c.conv_kernel = require_dim(f, "llamba.ssm.conv_kernel", 64);
  c.chunk_size = f.has("llamba.ssm.chunk_size") ? require_dim(f, "llamba.ssm.chunk_size", 1 << 16) : 128;
  c.norm_eps = f.get_float("llamba.norm_epsilon", 1e-5);
  c.block_eps = f.get_float("llamba.attention.layer_norm_rms_epsilon", 1e-5);
  const std::string act = f.get_string("llamba.ssm.conv_activation", "identity");
  LLAMBA_ENSURE(act == "identity" || act == "silu", "{}: llamba.ssm.conv_activation \"{}\" (identity or silu)",
                f.path(), act);
  c.conv_activation = act == "silu" ? ops::ConvActivation::kSilu : ops::ConvActivation::kIdentity;
  LLAMBA_ENSURE(c.d_inner % c.n_heads == 0, "{}: llamba.ssm.inner_size {} is not a multiple of head_count {}",
                f.path(), c.d_inner, c.n_heads);
  LLAMBA_ENSURE(c.n_heads % c.n_groups == 0, "{}: llamba.ssm.head_count {} is not a multiple of group_count {}",
                f.path(), c.n_heads, c.n_groups);
  c.head_dim = c.d_inner / c.n_heads;
  c.n_vocab = vocab_size(f);
  return c;
}

Weights Weights::from_gguf(const io::GgufFile& f, const Config& c) {
  const int64_t D = c.d_model, F = c.ffn_dim, di = c.d_inner;
  Weights w;
  w.token_embd = require_weight(f, "token_embd.weight", {c.n_vocab, D}, WeightKind::kMatrix);
  w.output_norm = require_weight(f, "output_norm.weight", {D}, WeightKind::kF32);
  w.output = optional_weight(f, "output.weight", {c.n_vocab, D}, WeightKind::kMatrix);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    LayerWeights lw;
    lw.attn_norm = require_weight(f, blk(l, "attn_norm.weight"), {D}, WeightKind::kF32);
    lw.in_proj = require_weight(f, blk(l, "ssm_in.weight"), {c.in_proj_rows(), D}, WeightKind::kMatrix);
    lw.conv_w = require_weight(f, blk(l, "ssm_conv1d.weight"), {c.conv_channels(), c.conv_kernel}, WeightKind::kF32);
    lw.conv_b = optional_weight(f, blk(l, "ssm_conv1d.bias"), {c.conv_channels()}, WeightKind::kF32);
    lw.z_bias = require_weight(f, blk(l, "ssm_z_bias"), {di}, WeightKind::kF32);
    lw.d = require_weight(f, blk(l, "ssm_d"), {c.n_heads}, WeightKind::kF32);
    lw.out_proj = require_weight(f, blk(l, "ssm_out.weight"), {D, di}, WeightKind::kMatrix);
    lw.ffn_norm = require_weight(f, blk(l, "ffn_norm.weight"), {D}, WeightKind::kF32);
    lw.mlp = require_mlp(f, l, D, F);
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
    visit(blk(l, "ssm_conv1d.weight"), lw.conv_w);
    if (lw.conv_b.data) visit(blk(l, "ssm_conv1d.bias"), lw.conv_b);
    visit(blk(l, "ssm_z_bias"), lw.z_bias);
    visit(blk(l, "ssm_d"), lw.d);
    visit(blk(l, "ssm_out.weight"), lw.out_proj);
    visit(blk(l, "ffn_norm.weight"), lw.ffn_norm);
    visit_mlp(visit, l, lw.mlp);
  }
  visit("output_norm.weight", output_norm);
  if (output.data) visit("output.weight", output);
}

}  // namespace llamba::models::llamba
