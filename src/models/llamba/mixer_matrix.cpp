// MOHAWK stage 1 for Llamba: layer l's mixer as its materialized matrix, from a hidden state through the layer's
// input norm (fresh states: the conv starts from zeros), and the exact backward of that path: M reads the B, C and
// a columns of in_proj (through the conv for B and C) and D; x, z, z_bias and out_proj get no gradient
// (docs/distillation.md §"Losses and gradients"). Per batch row, since M is (H, T, T) per sequence.
#include "ops/mixer_matrix.h"

#include <cmath>
#include <cstring>

#include "models/blocks/weights_util.h"
#include "models/llamba/llamba.h"
#include "ops/conv1d_causal.h"
#include "ops/elementwise.h"
#include "ops/linear.h"
#include "ops/rmsnorm.h"

namespace llamba::models::llamba {

using core::DType;
using core::Tensor;
using core::TensorView;

namespace {

// What the forward keeps (M = B·T rows).
struct MatrixCache final : ForwardCache {
  int64_t layer = 0, batch = 0;
  Tensor h_in, u, proj;  // (M, D), (M, D) normed, (M, R) in_proj output
  Tensor k, q, ld;       // (B, T, G, N) ×2, (B, T, H)
};

}  // namespace

std::unique_ptr<ForwardCache> LlambaModel::mixer_matrix_forward(ops::Context& ctx, int64_t l, const TensorView& h_in,
                                                                int64_t batch, const TensorView& m) const {
  check_layer_io(ctx, "mixer_matrix_forward", l, h_in, batch, h_in);
  const int64_t M = h_in.size(0), T = M / batch, D = c_.d_model, R = c_.in_proj_rows(), Cc = c_.conv_channels();
  const int64_t di = c_.d_inner, H = c_.n_heads, G = c_.n_groups, N = c_.d_state;
  LLAMBA_ENSURE(m.shape == core::Shape({batch, H, T, T}) && m.dtype == DType::kF32 && m.is_contiguous(),
                "[llamba mixer_matrix_forward] m must be contiguous f32 ({}, {}, {}, {}), got {}", batch, H, T, T,
                m.shape.str());
  const LayerWeights& lw = w_.layers[l];
  auto c = std::make_unique<MatrixCache>();
  c->layer = l, c->batch = batch;
  c->h_in = Tensor::copy_of(h_in);
  c->u = Tensor::zeros(DType::kF32, {M, D});
  ops::rmsnorm_forward(ctx, c->u, h_in, lw.attn_norm, (float)c_.block_eps);
  c->proj = Tensor::zeros(DType::kF32, {M, R});
  ops::linear_forward(ctx, c->proj, c->u, lw.in_proj);
  Tensor xbc = Tensor::zeros(DType::kF32, {M, Cc});
  for (int64_t b = 0; b < batch; ++b) {
    Tensor conv_state = Tensor::zeros(DType::kF32, {c_.conv_kernel - 1, Cc});  // fresh per row (the op updates it)
    ops::conv1d_causal_forward(ctx, xbc.view().slice(0, b * T, (b + 1) * T),
                               c->proj.view().slice(0, b * T, (b + 1) * T).slice(1, 0, Cc), lw.conv_w, lw.conv_b,
                               conv_state, c_.conv_activation);
  }
  c->k = Tensor::zeros(DType::kF32, {batch, T, G, N});
  c->q = Tensor::zeros(DType::kF32, {batch, T, G, N});
  c->ld = Tensor::zeros(DType::kF32, {batch, T, H});
  split_xbc(xbc, di, {}, c->k, c->q);
  ops::neg_softplus(ctx, c->ld.view().reshape({M, H}), c->proj.view().slice(1, Cc + di, Cc + di + H));
  for (int64_t b = 0; b < batch; ++b)
    ops::mixer_matrix_forward(ctx, m.select(0, b), c->q.view().select(0, b), c->k.view().select(0, b),
                              c->ld.view().select(0, b), lw.d);
  return c;
}

void LlambaModel::mixer_matrix_backward(ops::Context& ctx, ForwardCache& base, const TensorView& dm,
                                        const TensorView& dh_in, GradientMap& grads) const {
  auto* c = dynamic_cast<MatrixCache*>(&base);
  LLAMBA_ENSURE(c, "[llamba mixer_matrix_backward] the cache is not from this model's mixer_matrix_forward");
  const int64_t l = c->layer, batch = c->batch, M = c->h_in.shape()[0], T = M / batch;
  const int64_t R = c_.in_proj_rows(), Cc = c_.conv_channels(), di = c_.d_inner, H = c_.n_heads;
  const int64_t G = c_.n_groups, N = c_.d_state;
  check_layer_io(ctx, "mixer_matrix_backward", l, c->h_in, batch, dh_in);
  LLAMBA_ENSURE(dm.shape == core::Shape({batch, H, T, T}) && dm.dtype == DType::kF32 && dm.is_contiguous(),
                "[llamba mixer_matrix_backward] dm must be contiguous f32 ({}, {}, {}, {}), got {}", batch, H, T, T,
                dm.shape.str());
  const LayerWeights& lw = w_.layers[l];
  Tensor dq = Tensor::zeros(DType::kF32, {batch, T, G, N}), dk = Tensor::zeros(DType::kF32, {batch, T, G, N});
  Tensor dld = Tensor::zeros(DType::kF32, {batch, T, H});
  const TensorView dd = grad_of(grads, blk(l, "ssm_d"));
  for (int64_t b = 0; b < batch; ++b)
    ops::mixer_matrix_backward(ctx, dq.view().select(0, b), dk.view().select(0, b), dld.view().select(0, b), dd,
                               dm.select(0, b), c->q.view().select(0, b), c->k.view().select(0, b),
                               c->ld.view().select(0, b));
  // xbc = [x | B | C] (x unused here), then log_decay = -softplus(a): d a = -sigmoid(a) · d ld.
  Tensor dxbc = Tensor::zeros(DType::kF32, {M, Cc});
  Tensor no_dx = Tensor::zeros(DType::kF32, {M, di});
  add_xbc_grad(dxbc, di, no_dx, dk, dq);
  Tensor dproj = Tensor::zeros(DType::kF32, {M, R});
  for (int64_t r = 0; r < M; ++r)
    for (int64_t h = 0; h < H; ++h) {
      const float av = c->proj.f32()[r * R + Cc + di + h];
      dproj.f32()[r * R + Cc + di + h] = -dld.f32()[r * H + h] / (1.0f + std::exp(-av));
    }
  const TensorView dconv_b = lw.conv_b.data ? grad_of(grads, blk(l, "ssm_conv1d.bias")) : TensorView{};
  for (int64_t b = 0; b < batch; ++b)
    ops::conv1d_causal_backward(
        ctx, dproj.view().slice(0, b * T, (b + 1) * T).slice(1, 0, Cc), grad_of(grads, blk(l, "ssm_conv1d.weight")),
        dconv_b, {}, dxbc.view().slice(0, b * T, (b + 1) * T),
        c->proj.view().slice(0, b * T, (b + 1) * T).slice(1, 0, Cc), lw.conv_w, lw.conv_b, {}, c_.conv_activation);
  Tensor du = Tensor::zeros(DType::kF32, {M, c_.d_model});
  ops::linear_backward(ctx, du, grad_of(grads, blk(l, "ssm_in.weight")), {}, dproj, c->u, lw.in_proj);
  ops::rmsnorm_backward(ctx, dh_in, grad_of(grads, blk(l, "attn_norm.weight")), du, c->h_in, lw.attn_norm,
                        (float)c_.block_eps);
}

}  // namespace llamba::models::llamba
