// Mamba-2 training backward: the reverse of forward.cpp/mixer.cpp over the activations a training forward kept
// (Mamba2Cache); the head and embedding ends are RecurrentLanguageModel's. Every parameter gradient is accumulated (+=) into `grads` under its GGUF name; the decay rate's
// goes to the form the file holds: `ssm_a` gets dL/dA, `ssm_a_log` gets dL/dA_log = A · dL/dA.
#include <cmath>

#include "models/blocks/weights_util.h"
#include "models/mamba2/mamba2.h"
#include "ops/conv1d_causal.h"
#include "ops/linear.h"
#include "ops/rmsnorm.h"
#include "ops/swiglu.h"

namespace llamba::models::mamba2 {

using core::DType;
using core::Tensor;
using core::TensorView;

void Mamba2Model::mixer_backward(ops::Context& ctx, int64_t l, const LayerActs& a, int64_t batch,
                                 const TensorView& dout, const TensorView& du, GradientMap& grads) const {
  const LayerWeights& lw = w_.layers[l];
  const MixerActs& A = a.mix;
  const int64_t M = dout.size(0), T = M / batch, R = c_.in_proj_rows(), Cc = c_.conv_channels();
  const int64_t di = c_.d_inner, dm = c_.d_mlp, H = c_.n_heads, P = c_.head_dim, G = c_.n_groups, N = c_.d_state;
  const int64_t dg = di / G;
  const int64_t o_x0 = dm, o_z = 2 * dm, o_xbc = 2 * dm + di, o_dt = 2 * dm + di + Cc;  // in_proj column offsets
  const float eps = (float)c_.norm_eps;
  const TensorView pv = A.proj.view();
  Tensor dproj = Tensor::zeros(DType::kF32, {M, R});  // (B·T, R)
  const TensorView dpv = dproj.view();

  // out = W_out · cat + b_out
  Tensor dcat = Tensor::zeros(DType::kF32, {M, dm + di});
  ops::linear_backward(ctx, dcat, grad_of(grads, blk(l, "ssm_out.weight")),
                       grad_if(grads, lw.out_bias, blk(l, "ssm_out.bias")), dout, A.cat, lw.out_proj);
  // cat[:, :d_mlp] = silu(z0) ⊙ x0
  if (dm > 0)
    ops::swiglu_backward(ctx, dpv.slice(1, 0, dm), dpv.slice(1, o_x0, o_x0 + dm), {}, dcat.view().slice(1, 0, dm),
                         pv.slice(1, 0, dm), pv.slice(1, o_x0, o_x0 + dm));
  // cat[:, d_mlp:] = RMSNorm of each group of gz, times its row of the norm weight
  Tensor dgz = Tensor::zeros(DType::kF32, {M, di});
  const TensorView dnorm = grad_of(grads, blk(l, "ssm_norm.weight"));  // (G, d_inner / G)
  for (int64_t g = 0; g < G; ++g)
    ops::rmsnorm_backward(ctx, dgz.view().slice(1, g * dg, (g + 1) * dg), dnorm.select(0, g),
                          dcat.view().slice(1, dm + g * dg, dm + (g + 1) * dg),
                          A.gz.view().slice(1, g * dg, (g + 1) * dg), lw.norm.select(0, g), eps);
  // gz = y_pre ⊙ silu(z)
  Tensor dy_pre = Tensor::zeros(DType::kF32, {M, di});
  ops::swiglu_backward(ctx, dpv.slice(1, o_z, o_z + di), dy_pre, {}, dgz, pv.slice(1, o_z, o_z + di), A.y_pre);

  // y_pre = y_rec + D·x
  Tensor dx = Tensor::zeros(DType::kF32, {batch, T, H, P});
  float* dd = grad_of(grads, blk(l, "ssm_d")).f32();
  const float* dp = lw.d.f32();
  for (int64_t h = 0; h < H; ++h) {
    double s = 0;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t p = 0; p < P; ++p) {
        const int64_t i = (m * H + h) * P + p;
        s += (double)dy_pre.f32()[i] * A.x.f32()[i];
        dx.f32()[i] = dp[h] * dy_pre.f32()[i];
      }
    dd[h] += (float)s;
  }

  // The recurrence, from the zero state a training forward starts from.
  Tensor dq = Tensor::zeros(DType::kF32, {batch, T, G, N}), dk = Tensor::zeros(DType::kF32, {batch, T, G, N});
  Tensor dv = Tensor::zeros(DType::kF32, {batch, T, H, P});
  Tensor dld = Tensor::zeros(DType::kF32, {batch, T, H});
  ssm_scan_backward(ctx, {A.q, A.k, A.v, A.ld}, dy_pre.view().reshape({batch, T, H, P}), c_.chunk_size,
                    {dq, dk, dv, dld});

  // v = Δ·x and ld = Δ·A give dΔ = Σ_p dv·x + A·dld, dx += Δ·dv, dA = Σ Δ·dld; then Δ = clamp(softplus(s)),
  // s = dt + dt_bias: ds = sigmoid(s)·dΔ, zero where the clamp is active (torch.clamp's gradient).
  const float* dtb = lw.dt_bias.f32();
  float* ddtb = grad_of(grads, blk(l, "ssm_dt.bias")).f32();
  std::vector<double> da(H, 0.0), ddt_bias(H, 0.0);
  std::vector<float> a_h(H);
  for (int64_t h = 0; h < H; ++h) a_h[h] = lw.decay_rate(h);
  for (int64_t m = 0; m < M; ++m) {
    const float* dtr = pv.f32() + m * pv.strides[0] + o_dt;
    for (int64_t h = 0; h < H; ++h) {
      const int64_t mh = m * H + h;
      const float delta = A.delta.f32()[mh];
      double d_delta = (double)a_h[h] * dld.f32()[mh];
      for (int64_t p = 0; p < P; ++p) {
        d_delta += (double)dv.f32()[mh * P + p] * A.x.f32()[mh * P + p];
        dx.f32()[mh * P + p] += delta * dv.f32()[mh * P + p];
      }
      da[h] += (double)delta * dld.f32()[mh];
      const float s = dtr[h] + dtb[h], sp = softplus(s);
      const bool clamped = sp < c_.dt_min || sp > c_.dt_max;
      const double ds = clamped ? 0.0 : d_delta / (1.0 + std::exp(-(double)s));
      dpv.f32()[m * dpv.strides[0] + o_dt + h] += (float)ds;
      ddt_bias[h] += ds;
    }
  }
  for (int64_t h = 0; h < H; ++h) ddtb[h] += (float)ddt_bias[h];
  if (lw.a_log.data) {
    float* dal = grad_of(grads, blk(l, "ssm_a_log")).f32();
    for (int64_t h = 0; h < H; ++h) dal[h] += (float)(a_h[h] * da[h]);  // dA/dA_log = A
  } else {
    float* dA = grad_of(grads, blk(l, "ssm_a")).f32();
    for (int64_t h = 0; h < H; ++h) dA[h] += (float)da[h];
  }

  // xbc = silu(conv(xBC)) split into [x | B | C]; the conv starts from zeros (fresh sequences).
  Tensor dxbc = Tensor::zeros(DType::kF32, {M, Cc});
  add_xbc_grad(dxbc, di, dx, dk, dq);
  const TensorView dconv_w = grad_of(grads, blk(l, "ssm_conv1d.weight"));
  const TensorView dconv_b = grad_if(grads, lw.conv_b, blk(l, "ssm_conv1d.bias"));
  for (int64_t b = 0; b < batch; ++b)
    ops::conv1d_causal_backward(ctx, dpv.slice(0, b * T, (b + 1) * T).slice(1, o_xbc, o_xbc + Cc), dconv_w, dconv_b,
                                {}, dxbc.view().slice(0, b * T, (b + 1) * T),
                                pv.slice(0, b * T, (b + 1) * T).slice(1, o_xbc, o_xbc + Cc), lw.conv_w, lw.conv_b, {},
                                ops::ConvActivation::kSilu);
  ops::linear_backward(ctx, du, grad_of(grads, blk(l, "ssm_in.weight")),
                       grad_if(grads, lw.in_bias, blk(l, "ssm_in.bias")), dproj, a.u, lw.in_proj);
}

void Mamba2Model::block_backward(ops::Context& ctx, int64_t l, const LayerActs& a, int64_t batch, ResidualGrad& g,
                                 GradientMap& grads) const {
  // h_out = h_in + mixer(norm(h_in))
  g.prenorm_block(ctx, grad_of(grads, blk(l, "attn_norm.weight")), a.h_in, w_.layers[l].attn_norm,
                  (float)c_.norm_eps, [&] { mixer_backward(ctx, l, a, batch, g.dh, g.du, grads); });
}

}  // namespace llamba::models::mamba2
