// The Discrete Mamba-2 mixer (docs/models.md §"Discrete Mamba-2 mixer"): in_proj -> causal conv over [x|B|C]
// -> scalar-gated linear recurrence (decay exp(-softplus(a)), input x ⊗ B without Δ) -> D skip -> gate
// silu(z + z_bias) -> out_proj. The recurrence itself is the shared gated_recurrence op; chunked prefill starts
// from any carried state.
#include <cmath>

#include "models/blocks/layer_temps.h"
#include "models/llamba/llamba.h"
#include "ops/elementwise.h"
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
  LayerTemps temps(ctx, keep != nullptr);
  MixerActs kept;
  const TensorView proj = temps(&kept.proj, {M, R});  // (B·T, [x|B|C|z|a])
  ops::linear_forward(ctx, proj, u, lw.in_proj);
  const TensorView xbc = temps(&kept.xbc, {M, Cc});  // (B·T, Cc) after the conv
  conv_forward_rows(ctx, xbc, proj.slice(1, 0, Cc), lw.conv_w, lw.conv_b, states, l, c_.conv_activation);
  // The recurrence reads x, B, C where the conv wrote them; training keeps its own copies for the backward.
  TensorView x = column_heads(xbc, 0, batch, H, P);
  TensorView k = column_heads(xbc, di, batch, G, N);
  TensorView q = column_heads(xbc, di + G * N, batch, G, N);
  if (keep) {
    x = temps(&kept.x, {batch, T, H, P}), k = temps(&kept.k, {batch, T, G, N}), q = temps(&kept.q, {batch, T, G, N});
    split_xbc(xbc, di, x, k, q);
  }
  const TensorView ld = temps(&kept.ld, {batch, T, H});
  ops::neg_softplus(ctx, ld.reshape({M, H}), proj.slice(1, Cc + di, Cc + di + H));
  const TensorView y = temps(&kept.y2, {batch, T, H, P});
  ssm_scan_forward(ctx, {q, k, x, ld}, y, states, l, form, chunk);
  // y += D·x, then y ⊙ silu(z + z_bias), then out_proj.
  add_skip(ctx, y, x, lw.d);
  if (keep) kept.y_pre = Tensor::copy_of(y.reshape({M, di}));
  const TensorView y2 = y.reshape({M, di});
  ops::swiglu_forward(ctx, y2, proj.slice(1, Cc, Cc + di), y2, lw.z_bias);
  ops::linear_forward(ctx, out, y2, lw.out_proj);
  if (keep) {
    kept.y2 = Tensor(kept.y2.buffer(), y2);
    *keep = std::move(kept);
  }
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
  ops::neg_softplus(ctx, ld, proj.view().slice(1, Cc + di, Cc + di + H));
  ops::mixer_matrix_forward(ctx, m, q, k, ld, lw.d);
}

}  // namespace llamba::models::llamba
