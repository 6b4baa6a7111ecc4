// Llamba training backward: the reverse of forward.cpp/mixer.cpp over the activations a training forward kept
// (LlambaCache); the head and embedding ends are RecurrentLanguageModel's. Every parameter gradient is accumulated
// (+=) into `grads` under its GGUF name.
#include <cmath>

#include "models/blocks/weights_util.h"
#include "models/llamba/llamba.h"
#include "ops/conv1d_causal.h"
#include "ops/linear.h"
#include "ops/swiglu.h"

namespace llamba::models::llamba {

using core::DType;
using core::Tensor;
using core::TensorView;

void LlambaModel::mixer_backward(ops::Context& ctx, int64_t l, const LayerActs& a, int64_t batch,
                                 const TensorView& dout, const TensorView& du1, GradientMap& grads) const {
  const LayerWeights& lw = w_.layers[l];
  const MixerActs& A = a.mix;
  const int64_t M = dout.size(0), T = M / batch, R = c_.in_proj_rows(), Cc = c_.conv_channels();
  const int64_t di = c_.d_inner, H = c_.n_heads, P = c_.head_dim, G = c_.n_groups, N = c_.d_state;
  // out = W_out · y2
  Tensor dy2 = Tensor::zeros(DType::kF32, {M, di});
  ops::linear_backward(ctx, dy2, grad_of(grads, blk(l, "ssm_out.weight")), {}, dout, A.y2, lw.out_proj);
  // y2 = y_pre ⊙ silu(z + z_bias)
  Tensor dproj = Tensor::zeros(DType::kF32, {M, R});
  Tensor dy_pre = Tensor::zeros(DType::kF32, {M, di});
  ops::swiglu_backward(ctx, dproj.view().slice(1, Cc, Cc + di), dy_pre, grad_of(grads, blk(l, "ssm_z_bias")), dy2,
                       A.proj.view().slice(1, Cc, Cc + di), A.y_pre, lw.z_bias);
  // y_pre = y_rec + D·x
  Tensor dx = Tensor::zeros(DType::kF32, {batch, T, H, P});
  float* dd = grad_of(grads, blk(l, "ssm_d")).f32();
  const float* dp = lw.d.f32();
  for (int64_t m = 0; m < M; ++m)
    for (int64_t h = 0; h < H; ++h) {
      double s = 0;
      for (int64_t p = 0; p < P; ++p) {
        const int64_t i = (m * H + h) * P + p;
        s += (double)dy_pre.f32()[i] * A.x.f32()[i];
        dx.f32()[i] = dp[h] * dy_pre.f32()[i];
      }
      dd[h] += (float)s;
    }
  // The recurrence, from the zero state a training forward starts from.
  Tensor dq = Tensor::zeros(DType::kF32, {batch, T, G, N}), dk = Tensor::zeros(DType::kF32, {batch, T, G, N});
  Tensor dld = Tensor::zeros(DType::kF32, {batch, T, H});
  ssm_scan_backward(ctx, {A.q, A.k, A.x, A.ld}, dy_pre.view().reshape({batch, T, H, P}), c_.chunk_size,
                    {dq, dk, dx, dld});
  // Back through the split of xbc = [x | B | C] and through log_decay = -softplus(a): d a = -sigmoid(a) · d ld.
  Tensor dxbc = Tensor::zeros(DType::kF32, {M, Cc});
  add_xbc_grad(dxbc, di, dx, dk, dq);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t h = 0; h < H; ++h) {
      const float av = A.proj.f32()[m * R + Cc + di + h];
      dproj.f32()[m * R + Cc + di + h] += -dld.f32()[m * H + h] / (1.0f + std::exp(-av));
    }
  const TensorView dconv_b = lw.conv_b.data ? grad_of(grads, blk(l, "ssm_conv1d.bias")) : TensorView{};
  for (int64_t b = 0; b < batch; ++b)
    ops::conv1d_causal_backward(ctx, dproj.view().slice(0, b * T, (b + 1) * T).slice(1, 0, Cc),
                                grad_of(grads, blk(l, "ssm_conv1d.weight")), dconv_b, {},
                                dxbc.view().slice(0, b * T, (b + 1) * T),
                                A.proj.view().slice(0, b * T, (b + 1) * T).slice(1, 0, Cc), lw.conv_w, lw.conv_b, {},
                                c_.conv_activation);
  ops::linear_backward(ctx, du1, grad_of(grads, blk(l, "ssm_in.weight")), {}, dproj, a.u1, lw.in_proj);
}

void LlambaModel::block_backward(ops::Context& ctx, int64_t l, const LayerActs& a, int64_t batch, ResidualGrad& g,
                                 GradientMap& grads) const {
  const float eps = (float)c_.block_eps;
  const LayerWeights& lw = w_.layers[l];
  // h_out = h_mid + MLP(norm(h_mid))
  g.prenorm_block(ctx, grad_of(grads, blk(l, "ffn_norm.weight")), a.h_mid, lw.ffn_norm, eps,
                  [&] { swiglu_mlp_backward(ctx, g.du, mlp_grads(grads, l), g.dh, a.u2, lw.mlp, a.mlp); });
  // h_mid = h_in + mixer(norm(h_in))
  g.prenorm_block(ctx, grad_of(grads, blk(l, "attn_norm.weight")), a.h_in, lw.attn_norm, eps,
                  [&] { mixer_backward(ctx, l, a, batch, g.dh, g.du, grads); });
}

}  // namespace llamba::models::llamba
