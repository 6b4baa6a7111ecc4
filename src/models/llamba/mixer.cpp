// The Discrete Mamba-2 mixer (llamba.md §4): in_proj -> causal conv over [x|B|C] -> scalar-gated linear
// recurrence (decay exp(-softplus(a)), input x ⊗ B without Δ) -> D skip -> gate silu(z + z_bias) -> out_proj.
// The recurrence itself is the shared gated_recurrence op; chunked prefill starts from any carried state.
#include <cmath>

#include "models/llamba/llamba.h"
#include "ops/linear.h"
#include "ops/mixer_matrix.h"
#include "ops/swiglu.h"

namespace llamba::models::llamba {

using core::DType;
using core::Tensor;
using core::TensorView;

void LlambaModel::mixer_forward(ops::Context& ctx, int64_t l, const TensorView& u, int64_t batch,
                                std::span<RecurrentState* const> states, const TensorView& out, MixerForm form,
                                int64_t chunk, MixerActs* keep) const {
  const LayerWeights& lw = w_.layers[l];
  const int64_t M = u.size(0), T = M / batch, R = c_.in_proj_rows(), Cc = c_.conv_channels();
  const int64_t di = c_.d_inner, H = c_.n_heads, P = c_.head_dim, G = c_.n_groups, N = c_.d_state;
  Tensor proj = Tensor::zeros(DType::kF32, {M, R});  // (B·T, [x|B|C|z|a])
  ops::linear_forward(ctx, proj, u, lw.in_proj);
  Tensor xbc = Tensor::zeros(DType::kF32, {M, Cc});  // (B·T, Cc) after the conv
  for (int64_t b = 0; b < batch; ++b) {
    ops::conv1d_causal_forward(ctx, xbc.view().slice(0, b * T, (b + 1) * T),
                               proj.view().slice(0, b * T, (b + 1) * T).slice(1, 0, Cc), lw.conv_w, lw.conv_b,
                               states[b]->layers[l].conv, c_.conv_activation);
  }
  Tensor x = Tensor::zeros(DType::kF32, {batch, T, H, P});
  Tensor k = Tensor::zeros(DType::kF32, {batch, T, G, N});
  Tensor q = Tensor::zeros(DType::kF32, {batch, T, G, N});
  Tensor ld = Tensor::zeros(DType::kF32, {batch, T, H});
  split_xbc(xbc, di, x, k, q);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t h = 0; h < H; ++h) ld.f32()[m * H + h] = -softplus(proj.f32()[m * R + Cc + di + h]);
  Tensor y = Tensor::zeros(DType::kF32, {batch, T, H, P});
  ssm_scan_forward(ctx, {q, k, x, ld}, y, states, l, form, chunk);
  // y += D·x, then y ⊙ silu(z + z_bias), then out_proj.
  add_skip(y, x, lw.d);
  Tensor y_pre = keep ? Tensor::copy_of(y.view().reshape({M, di})) : Tensor();
  const TensorView y2 = y.view().reshape({M, di});
  ops::swiglu_forward(ctx, y2, proj.view().slice(1, Cc, Cc + di), y2, lw.z_bias);
  ops::linear_forward(ctx, out, y2, lw.out_proj);
  if (keep) *keep = {proj, xbc, x, k, q, ld, y_pre, Tensor(y.buffer(), y2)};
}

void LlambaModel::mixer_matrix(ops::Context& ctx, int64_t l, const TensorView& u, const TensorView& m) const {
  const LayerWeights& lw = w_.layers[l];
  const int64_t T = u.size(0), R = c_.in_proj_rows(), Cc = c_.conv_channels();
  const int64_t di = c_.d_inner, H = c_.n_heads, G = c_.n_groups, N = c_.d_state;
  Tensor proj = Tensor::zeros(DType::kF32, {T, R});
  ops::linear_forward(ctx, proj, u, lw.in_proj);
  Tensor xbc = Tensor::zeros(DType::kF32, {T, Cc});
  Tensor conv_state = Tensor::zeros(DType::kF32, {c_.conv_kernel - 1, Cc});
  ops::conv1d_causal_forward(ctx, xbc, proj.view().slice(1, 0, Cc), lw.conv_w, lw.conv_b, conv_state,
                             c_.conv_activation);
  Tensor k = Tensor::zeros(DType::kF32, {T, G, N}), q = Tensor::zeros(DType::kF32, {T, G, N});
  Tensor ld = Tensor::zeros(DType::kF32, {T, H});
  split_xbc(xbc, di, {}, k, q);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < H; ++h) ld.f32()[t * H + h] = -softplus(proj.f32()[t * R + Cc + di + h]);
  ops::mixer_matrix_forward(ctx, m, q, k, ld, lw.d);
}

}  // namespace llamba::models::llamba
