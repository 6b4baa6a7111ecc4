// SwiGLU MLP forward and backward, and its tensors by GGUF name.
#include "models/blocks/mlp.h"

#include "models/blocks/layer_temps.h"
#include "models/blocks/weights_util.h"
#include "ops/linear.h"
#include "ops/swiglu.h"

namespace llamba::models {

using core::DType;
using core::Tensor;

void swiglu_mlp_forward(ops::Context& ctx, const core::TensorView& out, const core::TensorView& u,
                        const MlpWeights& w, MlpActs* keep) {
  const int64_t M = u.size(0), F = w.gate.size(0);
  LayerTemps temps(ctx, keep != nullptr);
  MlpActs kept;
  const core::TensorView g = temps(&kept.g, {M, F}), up = temps(&kept.up, {M, F});
  ops::linear_forward(ctx, g, u, w.gate);
  ops::linear_forward(ctx, up, u, w.up);
  const core::TensorView act = keep ? temps(&kept.act, {M, F}) : g;
  ops::swiglu_forward(ctx, act, g, up);
  ops::linear_forward(ctx, out, act, w.down);
  if (keep) *keep = std::move(kept);
}

void swiglu_mlp_backward(ops::Context& ctx, const core::TensorView& du, const MlpGrads& grads,
                         const core::TensorView& dout, const core::TensorView& u, const MlpWeights& w,
                         const MlpActs& acts) {
  const int64_t M = u.size(0), F = w.gate.size(0);
  Tensor dact = Tensor::zeros(DType::kF32, {M, F});
  ops::linear_backward(ctx, dact, grads.down, {}, dout, acts.act, w.down);
  Tensor dg = Tensor::zeros(DType::kF32, {M, F}), dup = Tensor::zeros(DType::kF32, {M, F});
  ops::swiglu_backward(ctx, dg, dup, {}, dact, acts.g, acts.up);
  ops::linear_backward(ctx, du, grads.gate, {}, dg, u, w.gate);
  ops::linear_backward(ctx, du, grads.up, {}, dup, u, w.up);
}

MlpWeights require_mlp(const io::GgufFile& f, int64_t l, int64_t d_model, int64_t ffn_dim) {
  const int64_t D = d_model, F = ffn_dim;
  return {require_weight(f, blk(l, "ffn_gate.weight"), {F, D}, WeightKind::kMatrix),
          require_weight(f, blk(l, "ffn_up.weight"), {F, D}, WeightKind::kMatrix),
          require_weight(f, blk(l, "ffn_down.weight"), {D, F}, WeightKind::kMatrix)};
}

void visit_mlp(const TensorVisitor& visit, int64_t l, const MlpWeights& w) {
  visit(blk(l, "ffn_gate.weight"), w.gate);
  visit(blk(l, "ffn_up.weight"), w.up);
  visit(blk(l, "ffn_down.weight"), w.down);
}

MlpGrads mlp_grads(GradientMap& grads, int64_t l) {
  return {grad_of(grads, blk(l, "ffn_gate.weight")), grad_of(grads, blk(l, "ffn_up.weight")),
          grad_of(grads, blk(l, "ffn_down.weight"))};
}

}  // namespace llamba::models
