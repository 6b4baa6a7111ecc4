// GateLoop time mixing (lucidrains `GateLoopedAttention`): q, k, v = u W_{q,k,v}; transition a from gl_a; the
// gated recurrence h_t = a_t h_{t−1} + k_tᵀ v_t, y_t = Re(q_t h_t) per head (ops::gated_recurrence, scale 1, no
// conjugation); optional sub-LN; optional SiLU gate y ⊙ silu(u W_g); out projection (or identity).
// Taps: gl_log_decay.l, gl_phase.l (complex gates), gl_y.l, gl_gated.l.
#include <cstring>

#include "models/gateloop/gateloop.h"
#include "models/gateloop/transition.h"
#include "ops/layernorm.h"
#include "ops/linear.h"
#include "ops/swiglu.h"

namespace llamba::models::gateloop {

using core::DType;
using core::Tensor;
using core::TensorView;

namespace {

ops::RecurrenceMode mode_of(MixerForm f) {
  switch (f) {
    case MixerForm::kChunked: return ops::RecurrenceMode::kChunked;
    case MixerForm::kQuadratic: return ops::RecurrenceMode::kQuadratic;
    case MixerForm::kScan: return ops::RecurrenceMode::kScan;
    case MixerForm::kRecurrent:
    case MixerForm::kStep: return ops::RecurrenceMode::kRecurrent;
  }
  return ops::RecurrenceMode::kChunked;
}

}  // namespace

// z (B·T, A) -> log_decay, phase (B·T, Hg) by the configured parametrization (gateloop.h `Transition`).
void GateLoopModel::transition(ops::Context& ctx, int64_t l, const TensorView& u, MixerActs& acts) const {
  const LayerWeights& lw = w_.layers[l];
  const int64_t M = u.size(0), A = c_.a_rows(), Hg = c_.n_gates();
  acts.z = Tensor::zeros(DType::kF32, {M, A});
  if (c_.transition == Transition::kFixed) {
    for (int64_t m = 0; m < M; ++m) std::memcpy(acts.z.f32() + m * A, lw.a_b.f32(), A * sizeof(float));
  } else {
    ops::linear_forward(ctx, acts.z, u, lw.a_w, lw.a_b);
  }
  acts.log_decay = Tensor::zeros(DType::kF32, {M, Hg});
  acts.phase = c_.has_phase() ? Tensor::zeros(DType::kF32, {M, Hg}) : Tensor();
  const bool two = c_.two_components();
  const float* z = acts.z.f32();
  float* ld = acts.log_decay.f32();
  float* ph = c_.has_phase() ? acts.phase.f32() : nullptr;
  // transition.h: polar's im = +0 without the complex half gives arg 0 or π (as torch.angle does).
  for (int64_t m = 0; m < M; ++m) {
    const float* zr = z + m * A;
    for (int64_t j = 0; j < Hg; ++j) {
      float* phase = ph ? ph + m * Hg + j : nullptr;
      transition_forward(c_.transition, zr[j], two ? zr[Hg + j] : 0.0f, ld[m * Hg + j], phase);
    }
  }
}

void GateLoopModel::mixer_forward(ops::Context& ctx, int64_t l, const TensorView& u, int64_t batch,
                                  std::span<RecurrentState* const> states, const TensorView& out, MixerForm form,
                                  int64_t chunk, MixerActs& acts, const Observer* obs) const {
  const LayerWeights& lw = w_.layers[l];
  const int64_t M = u.size(0), T = M / batch, D = c_.d_model, di = c_.d_inner, H = c_.n_heads, P = c_.head_dim;
  const auto tap = [&](const char* name, const TensorView& t) {
    if (obs) (*obs)(name, (int)l, t);
  };
  for (Tensor* t : {&acts.q, &acts.k, &acts.v, &acts.y}) *t = Tensor::zeros(DType::kF32, {M, di});
  ops::linear_forward(ctx, acts.q, u, lw.q);
  ops::linear_forward(ctx, acts.k, u, lw.k);
  ops::linear_forward(ctx, acts.v, u, lw.v);
  transition(ctx, l, u, acts);
  tap("gl_log_decay", acts.log_decay);
  if (c_.has_phase()) tap("gl_phase", acts.phase);

  // The recurrence: heads are their own q/k groups (G = H), key dim N = value dim P.
  const bool vec = c_.gate_kind == ops::GateKind::kVector, cplx = c_.has_phase();
  const core::Shape gate_shape = vec ? core::Shape{batch, T, H, P} : core::Shape{batch, T, H};
  const core::Shape heads{batch, T, H, P}, st_shape{batch, H, P, P};
  const int64_t S = H * P * P;
  // Batch-major state views: the row's own tensors when batch = 1, else gathered copies.
  Tensor s_re, s_im;
  TensorView sv_re, sv_im;
  if (batch == 1) {
    sv_re = states[0]->layers[l].ssm.view().reshape(st_shape);
    if (cplx) sv_im = states[0]->layers[l].ssm_im.view().reshape(st_shape);
  } else {
    s_re = Tensor::zeros(DType::kF32, st_shape);
    if (cplx) s_im = Tensor::zeros(DType::kF32, st_shape);
    for (int64_t b = 0; b < batch; ++b) {
      std::memcpy(s_re.f32() + b * S, states[b]->layers[l].ssm.f32(), S * sizeof(float));
      if (cplx) std::memcpy(s_im.f32() + b * S, states[b]->layers[l].ssm_im.f32(), S * sizeof(float));
    }
    sv_re = s_re;
    if (cplx) sv_im = s_im;
  }
  const TensorView q = acts.q.view().reshape(heads), k = acts.k.view().reshape(heads);
  const TensorView v = acts.v.view().reshape(heads), y = acts.y.view().reshape(heads);
  const TensorView ld = acts.log_decay.view().reshape(gate_shape);
  const TensorView ph = cplx ? acts.phase.view().reshape(gate_shape) : TensorView{};
  if (form == MixerForm::kStep) {
    for (int64_t t = 0; t < T; ++t) {  // token by token through the decode op, state updated in place
      ops::GatedRecurrenceStepArgs s;
      s.q = q.select(1, t);
      s.k = k.select(1, t);
      s.v = v.select(1, t);
      s.log_decay = ld.select(1, t);
      if (cplx) s.phase = ph.select(1, t);
      s.y = y.select(1, t);
      s.state = sv_re;
      s.state_im = sv_im;
      ops::gated_recurrence_step(ctx, s);
    }
  } else {
    ops::GatedRecurrenceArgs a;
    a.q = q;
    a.k = k;
    a.v = v;
    a.log_decay = ld;
    a.phase = ph;
    a.y = y;
    a.state_in = a.state_out = sv_re;  // aliasing is allowed: each (b, h) reads its state before writing
    a.state_in_im = a.state_out_im = sv_im;
    a.chunk = chunk;
    ops::gated_recurrence_forward(ctx, a, mode_of(form));
  }
  if (batch > 1) {
    for (int64_t b = 0; b < batch; ++b) {
      std::memcpy(states[b]->layers[l].ssm.f32(), s_re.f32() + b * S, S * sizeof(float));
      if (cplx) std::memcpy(states[b]->layers[l].ssm_im.f32(), s_im.f32() + b * S, S * sizeof(float));
    }
  }
  tap("gl_y", acts.y);

  // Output path: sub-LN, SiLU gate, out projection.
  TensorView cur = acts.y;
  if (c_.sub_norm) {
    acts.y_norm = Tensor::zeros(DType::kF32, {M, di});
    ops::layernorm_forward(ctx, acts.y_norm, cur, lw.sub_norm_w, lw.sub_norm_b, (float)c_.sub_norm_eps);
    cur = acts.y_norm;
  }
  if (c_.output_gate) {
    acts.gate = Tensor::zeros(DType::kF32, {M, di});
    acts.gated = Tensor::zeros(DType::kF32, {M, di});
    ops::linear_forward(ctx, acts.gate, u, lw.g);
    ops::swiglu_forward(ctx, acts.gated, acts.gate, cur);  // silu(u W_g) ⊙ y
  } else {
    acts.gated = Tensor::copy_of(cur);
  }
  tap("gl_gated", acts.gated);
  if (c_.out_proj) {
    ops::linear_forward(ctx, out, acts.gated, lw.out);
  } else {
    std::memcpy(out.f32(), acts.gated.f32(), M * D * sizeof(float));  // identity (d_inner == D, checked)
  }
}

}  // namespace llamba::models::gateloop
