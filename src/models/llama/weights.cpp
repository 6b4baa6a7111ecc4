// Llama config and weights from GGUF, with every shape checked.
#include "models/blocks/weights_util.h"
#include "models/llama/llama.h"

namespace llamba::models::llama {

Config Config::from_gguf(const io::GgufFile& f) {
  Config c;
  c.n_layers = require_dim(f, "llama.block_count", 4096);
  c.d_model = require_dim(f, "llama.embedding_length");
  c.ffn_dim = require_dim(f, "llama.feed_forward_length");
  c.n_heads = require_dim(f, "llama.attention.head_count", 4096);
  c.n_kv_heads = f.has("llama.attention.head_count_kv") ? require_dim(f, "llama.attention.head_count_kv", 4096)
                                                        : c.n_heads;
  LLAMBA_ENSURE(c.n_heads % c.n_kv_heads == 0, "{}: head_count {} is not a multiple of head_count_kv {}", f.path(),
                c.n_heads, c.n_kv_heads);
  c.head_dim = f.has("llama.attention.key_length") ? require_dim(f, "llama.attention.key_length", 4096)
                                                   : c.d_model / c.n_heads;
  c.rope_dim = f.has("llama.rope.dimension_count") ? require_dim(f, "llama.rope.dimension_count", 4096) : c.head_dim;
  LLAMBA_ENSURE(c.rope_dim <= c.head_dim && c.rope_dim % 2 == 0, "{}: llama.rope.dimension_count {} for head dim {}",
                f.path(), c.rope_dim, c.head_dim);
  c.rms_eps = f.get_float("llama.attention.layer_norm_rms_epsilon", 1e-5);
  c.rope_base = f.get_float("llama.rope.freq_base", 10000.0);
  c.context_length = f.get_int("llama.context_length", 0);
  c.n_vocab = vocab_size(f);
  return c;
}

Weights Weights::from_gguf(const io::GgufFile& f, const Config& c) {
  const int64_t D = c.d_model, qd = c.n_heads * c.head_dim, kvd = c.n_kv_heads * c.head_dim, F = c.ffn_dim;
  Weights w;
  w.token_embd = require_weight(f, "token_embd.weight", {c.n_vocab, D}, WeightKind::kMatrix);
  w.output_norm = require_weight(f, "output_norm.weight", {D}, WeightKind::kF32);
  w.output = optional_weight(f, "output.weight", {c.n_vocab, D}, WeightKind::kMatrix);
  w.rope_freqs = optional_weight(f, "rope_freqs.weight", {c.rope_dim / 2}, WeightKind::kF32);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    LayerWeights lw;
    lw.attn_norm = require_weight(f, blk(l, "attn_norm.weight"), {D}, WeightKind::kF32);
    lw.wq = require_weight(f, blk(l, "attn_q.weight"), {qd, D}, WeightKind::kMatrix);
    lw.wk = require_weight(f, blk(l, "attn_k.weight"), {kvd, D}, WeightKind::kMatrix);
    lw.wv = require_weight(f, blk(l, "attn_v.weight"), {kvd, D}, WeightKind::kMatrix);
    lw.wo = require_weight(f, blk(l, "attn_output.weight"), {D, qd}, WeightKind::kMatrix);
    lw.ffn_norm = require_weight(f, blk(l, "ffn_norm.weight"), {D}, WeightKind::kF32);
    lw.mlp = require_mlp(f, l, D, F);
    w.layers.push_back(lw);
  }
  return w;
}

void Weights::for_each(const TensorVisitor& visit) const {
  visit("token_embd.weight", token_embd);
  if (rope_freqs.data) visit("rope_freqs.weight", rope_freqs);
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerWeights& lw = layers[l];
    visit(blk(l, "attn_norm.weight"), lw.attn_norm);
    visit(blk(l, "attn_q.weight"), lw.wq);
    visit(blk(l, "attn_k.weight"), lw.wk);
    visit(blk(l, "attn_v.weight"), lw.wv);
    visit(blk(l, "attn_output.weight"), lw.wo);
    visit(blk(l, "ffn_norm.weight"), lw.ffn_norm);
    visit_mlp(visit, l, lw.mlp);
  }
  visit("output_norm.weight", output_norm);
  if (output.data) visit("output.weight", output);
}

}  // namespace llamba::models::llama
