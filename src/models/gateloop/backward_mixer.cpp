// GateLoop training backward of one time-mixing layer, the reverse of mixer.cpp: out projection (or identity),
// SiLU output gate, sub-LN, the gated recurrence (ops::gated_recurrence_backward in Config::train_recurrence's
// mode, from the zero state a training forward starts in), the q/k/v projections and the transition
// (transition.h) back to gl_a. Parameter gradients accumulate (+=) into `grads`; du (the normed block input's
// gradient) accumulates too.
#include <cstring>

#include "models/blocks/weights_util.h"
#include "models/gateloop/gateloop.h"
#include "models/gateloop/transition.h"
#include "ops/gated_recurrence.h"
#include "ops/layernorm.h"
#include "ops/linear.h"
#include "ops/swiglu.h"

namespace llamba::models::gateloop {

using core::DType;
using core::Tensor;
using core::TensorView;

void GateLoopModel::mixer_backward(ops::Context& ctx, int64_t l, const LayerActs& a, int64_t batch,
                                   const TensorView& dout, const TensorView& du, GradientMap& grads) const {
  const LayerWeights& lw = w_.layers[l];
  const MixerActs& A = a.mix;
  const int64_t M = dout.size(0), T = M / batch, di = c_.d_inner, H = c_.n_heads, P = c_.head_dim;
  const int64_t Hg = c_.n_gates(), Acols = c_.a_rows();
  const bool cplx = c_.has_phase(), two = c_.two_components();

  // out = gated · W_outᵀ, or out = gated (no out projection: d_inner == D).
  Tensor dgated = Tensor::zeros(DType::kF32, {M, di});
  if (c_.out_proj)
    ops::linear_backward(ctx, dgated, grad_of(grads, blk(l, "gl_out.weight")), {}, dout, A.gated, lw.out);
  else
    for (int64_t m = 0; m < M; ++m)
      std::memcpy(dgated.f32() + m * di, dout.f32() + m * dout.strides[0], di * sizeof(float));

  // gated = silu(u W_gᵀ) ⊙ cur, with cur the sub-LN output (or y without it).
  const TensorView cur = c_.sub_norm ? A.y_norm.view() : A.y.view();
  Tensor dcur = dgated;
  if (c_.output_gate) {
    dcur = Tensor::zeros(DType::kF32, {M, di});
    Tensor dgate = Tensor::zeros(DType::kF32, {M, di});
    ops::swiglu_backward(ctx, dgate, dcur, {}, dgated, A.gate, cur);
    ops::linear_backward(ctx, du, grad_of(grads, blk(l, "gl_g.weight")), {}, dgate, a.u1, lw.g);
  }

  // cur = LayerNorm(y) · w + b
  Tensor dy = dcur;
  if (c_.sub_norm) {
    dy = Tensor::zeros(DType::kF32, {M, di});
    ops::layernorm_backward(ctx, dy, grad_of(grads, blk(l, "gl_sub_norm.weight")),
                            lw.sub_norm_b.data ? grad_of(grads, blk(l, "gl_sub_norm.bias")) : TensorView{}, dcur, A.y,
                            lw.sub_norm_w, (float)c_.sub_norm_eps);
  }

  // y = Re(q · h) of the recurrence; heads are their own q/k groups, key dim N = value dim P.
  const core::Shape heads{batch, T, H, P};
  const core::Shape gate_shape = c_.gate_kind == ops::GateKind::kVector ? heads : core::Shape{batch, T, H};
  Tensor dq = Tensor::zeros(DType::kF32, {M, di}), dk = Tensor::zeros(DType::kF32, {M, di});
  Tensor dv = Tensor::zeros(DType::kF32, {M, di});
  Tensor dld = Tensor::zeros(DType::kF32, {M, Hg});
  Tensor dph = cplx ? Tensor::zeros(DType::kF32, {M, Hg}) : Tensor();
  ops::GatedRecurrenceBackwardArgs g;
  g.q = A.q.view().reshape(heads);
  g.k = A.k.view().reshape(heads);
  g.v = A.v.view().reshape(heads);
  g.log_decay = A.log_decay.view().reshape(gate_shape);
  if (cplx) g.phase = A.phase.view().reshape(gate_shape);
  g.dy = dy.view().reshape(heads);
  g.dq = dq.view().reshape(heads);
  g.dk = dk.view().reshape(heads);
  g.dv = dv.view().reshape(heads);
  g.dlog_decay = dld.view().reshape(gate_shape);
  if (cplx) g.dphase = dph.view().reshape(gate_shape);
  g.chunk = c_.chunk_size;
  ops::gated_recurrence_backward(ctx, g, c_.train_recurrence);
  ops::linear_backward(ctx, du, grad_of(grads, blk(l, "gl_q.weight")), {}, dq, a.u1, lw.q);
  ops::linear_backward(ctx, du, grad_of(grads, blk(l, "gl_k.weight")), {}, dk, a.u1, lw.k);
  ops::linear_backward(ctx, du, grad_of(grads, blk(l, "gl_v.weight")), {}, dv, a.u1, lw.v);

  // (log|a|, arg a) = transition(z), z = u W_aᵀ + b_a (the bias alone for kFixed); the gradient into z is scaled
  // by transition_grad_scale (lucidrains' frac_gradient_state_transition).
  Tensor dz = Tensor::zeros(DType::kF32, {M, Acols});
  const float* z = A.z.f32();
  const float scale = (float)c_.transition_grad_scale;
  for (int64_t m = 0; m < M; ++m) {
    const float* zr = z + m * Acols;
    float* dzr = dz.f32() + m * Acols;
    for (int64_t j = 0; j < Hg; ++j) {
      transition_backward(c_.transition, zr[j], two ? zr[Hg + j] : 0.0f, dld.f32()[m * Hg + j],
                          cplx ? dph.f32()[m * Hg + j] : 0.0f, dzr[j], two ? dzr + Hg + j : nullptr);
    }
    if (scale != 1.0f)
      for (int64_t j = 0; j < Acols; ++j) dzr[j] *= scale;
  }
  if (c_.transition == Transition::kFixed) {
    // z = b_a broadcast to every row: its gradient is the column sum (in double: M terms).
    float* db = grad_of(grads, blk(l, "gl_a.bias")).f32();
    for (int64_t j = 0; j < Acols; ++j) {
      double s = 0;
      for (int64_t m = 0; m < M; ++m) s += dz.f32()[m * Acols + j];
      db[j] += (float)s;
    }
    return;
  }
  ops::linear_backward(ctx, du, grad_of(grads, blk(l, "gl_a.weight")),
                       lw.a_b.data ? grad_of(grads, blk(l, "gl_a.bias")) : TensorView{}, dz, a.u1, lw.a_w);
}

}  // namespace llamba::models::gateloop
