// The Mamba-2 mixer (docs/models.md §"Mamba-2 mixer"): in_proj -> causal conv + SiLU over [x|B|C] ->
// Δ = softplus(dt + dt_bias) (clamped to dt_limit) -> scalar-gated recurrence, log-decay Δ·A, input (Δ·x) ⊗ B ->
// D skip -> grouped gated RMSNorm
// (y ⊙ silu(z), RMS per group of d_inner/G channels: mamba_ssm `rms_norm_ref`, norm_before_gate=False) ->
// [silu(z0)·x0 |] -> out_proj. The recurrence is the shared gated_recurrence op (chunked prefill from any state).
// A training forward passes `keep` to store the activations backward.cpp needs.
#include <algorithm>
#include <cmath>

#include "models/mamba2/mamba2.h"
#include "ops/conv1d_causal.h"
#include "ops/linear.h"
#include "ops/rmsnorm.h"
#include "ops/swiglu.h"

namespace llamba::models::mamba2 {

using core::DType;
using core::Tensor;
using core::TensorView;

namespace {

// y (M, d_inner) in place: RMS-normalized per group of d_inner/G channels, times w (G, d_inner/G).
void group_rmsnorm(ops::Context& ctx, const TensorView& y, const TensorView& w, float eps) {
  const int64_t G = w.size(0), dg = w.size(1);
  for (int64_t g = 0; g < G; ++g) {
    const TensorView yg = y.slice(1, g * dg, (g + 1) * dg);
    ops::rmsnorm_forward(ctx, yg, yg, w.select(0, g), eps);
  }
}

}  // namespace

void Mamba2Model::mixer_forward(ops::Context& ctx, int64_t l, const TensorView& u, int64_t batch,
                                std::span<RecurrentState* const> states, const TensorView& out, MixerForm form,
                                int64_t chunk, const Observer* observer, MixerActs* keep) const {
  const LayerWeights& lw = w_.layers[l];
  const int64_t M = u.size(0), T = M / batch, R = c_.in_proj_rows(), Cc = c_.conv_channels();
  const int64_t di = c_.d_inner, dm = c_.d_mlp, H = c_.n_heads, P = c_.head_dim, G = c_.n_groups, N = c_.d_state;
  // Column offsets of the in_proj output [z0 | x0 | z | xBC | dt].
  const int64_t o_x0 = dm, o_z = 2 * dm, o_xbc = 2 * dm + di, o_dt = 2 * dm + di + Cc;
  Tensor proj = Tensor::zeros(DType::kF32, {M, R});  // (B·T, R)
  ops::linear_forward(ctx, proj, u, lw.in_proj, lw.in_bias);
  const TensorView pv = proj.view();

  // Causal conv + SiLU over xBC, per batch row from its carried window.
  Tensor xbc = Tensor::zeros(DType::kF32, {M, Cc});  // (B·T, Cc)
  conv_forward_rows(ctx, xbc, pv.slice(1, o_xbc, o_xbc + Cc), lw.conv_w, lw.conv_b, states, l,
                    ops::ConvActivation::kSilu);
  Tensor x = Tensor::zeros(DType::kF32, {batch, T, H, P});
  Tensor k = Tensor::zeros(DType::kF32, {batch, T, G, N});  // B
  Tensor q = Tensor::zeros(DType::kF32, {batch, T, G, N});  // C
  split_xbc(xbc, di, x, k, q);

  // Δ = clamp(softplus(dt + dt_bias)); log-decay Δ·A; the recurrence input is Δ·x.
  Tensor delta = Tensor::zeros(DType::kF32, {batch, T, H});
  Tensor log_decay = Tensor::zeros(DType::kF32, {batch, T, H});
  Tensor v = Tensor::zeros(DType::kF32, {batch, T, H, P});
  const float* dtb = lw.dt_bias.f32();
  std::vector<float> a_h(H);
  for (int64_t h = 0; h < H; ++h) a_h[h] = lw.decay_rate(h);
  for (int64_t m = 0; m < M; ++m) {
    const float* dtr = pv.f32() + m * pv.strides[0] + o_dt;
    for (int64_t h = 0; h < H; ++h) {
      const float dl = std::clamp(softplus(dtr[h] + dtb[h]), c_.dt_min, c_.dt_max);
      delta.f32()[m * H + h] = dl;
      log_decay.f32()[m * H + h] = dl * a_h[h];
      for (int64_t p = 0; p < P; ++p) v.f32()[(m * H + h) * P + p] = dl * x.f32()[(m * H + h) * P + p];
    }
  }

  Tensor y = Tensor::zeros(DType::kF32, {batch, T, H, P});
  ssm_scan_forward(ctx, {q, k, v, log_decay}, y, states, l, form, chunk);

  // y += D·x (x before the Δ scaling).
  add_skip(ctx, y, x, lw.d);
  const TensorView y2 = y.view().reshape({M, di});
  if (observer) (*observer)("mixer_y", (int)l, y2);
  Tensor y_pre = keep ? Tensor::copy_of(y2) : Tensor();

  // Gated norm into the out_proj input [silu(z0)·x0 | RMSNorm_group(y ⊙ silu(z)) ⊙ w].
  Tensor cat = Tensor::zeros(DType::kF32, {M, dm + di});  // (B·T, d_mlp + d_inner)
  const TensorView gated = cat.view().slice(1, dm, dm + di);
  ops::swiglu_forward(ctx, gated, pv.slice(1, o_z, o_z + di), y2);
  Tensor gz = keep ? Tensor::copy_of(gated) : Tensor();
  group_rmsnorm(ctx, gated, lw.norm, (float)c_.norm_eps);
  if (observer) (*observer)("mixer_gated", (int)l, dm ? Tensor::copy_of(gated).view() : gated);
  if (dm > 0) ops::swiglu_forward(ctx, cat.view().slice(1, 0, dm), pv.slice(1, 0, dm), pv.slice(1, o_x0, o_x0 + dm));
  ops::linear_forward(ctx, out, cat, lw.out_proj, lw.out_bias);
  if (keep) *keep = {proj, x, k, q, delta, log_decay, v, y_pre, gz, cat};
}

}  // namespace llamba::models::mamba2
