// The GateLoop state-transition parametrizations (docs/models.md §"Transitions"; gateloop.h `Transition`) as
// elementwise maps from the pre-activation components (first, second) of one gate to (log|a|, arg a), and their
// backward. Templated on the scalar type: float for the model, double for the gradient tests
// (tests/models/test_gateloop_transition.cpp: the double backward against central differences of the double forward,
// the float backward against the double one). Model-local rather than an op: four tiny formulas that only GateLoop
// uses; the recurrence itself is ops::gated_recurrence.
#pragma once

#include <algorithm>
#include <cmath>

#include "models/gateloop/gateloop.h"

namespace llamba::models::gateloop {

// log sigmoid(x) = −softplus(−x), without overflow for either sign; d/dx = sigmoid(−x).
template <class S>
S log_sigmoid(S x) {
  return std::min(x, S(0)) - std::log1p(std::exp(-std::fabs(x)));
}
template <class S>
S sigmoid_neg(S x) {  // sigmoid(−x) = 1 − sigmoid(x), without cancellation
  const S e = std::exp(-std::fabs(x));
  return x >= 0 ? e / (S(1) + e) : S(1) / (S(1) + e);
}

// One gate: `first`, `second` are the gate's two components of z (second = 0 when the transition has only one,
// see Config::two_components()). Writes log|a| (<= 0) and arg a (left unwritten when the config has no phase).
//   polar:    r = |first + i·second|, log|a| = log sigmoid(r), arg a = atan2(second, first) (0 or π without the
//             second component: a real, possibly negative gate, lucidrains' ablate_complex)
//   magphase: log|a| = log sigmoid(first), arg a = second;  real: log|a| = log sigmoid(first), no phase
//   fixed:    the magphase formula on the bias alone (the caller passes z = b_a)
template <class S>
void transition_forward(Transition t, S first, S second, S& log_decay, S* phase) {
  if (t == Transition::kPolar) {
    log_decay = log_sigmoid(std::hypot(first, second));
    *phase = std::atan2(second, first);
    return;
  }
  log_decay = log_sigmoid(first);
  if (phase) *phase = second;
}

// Backward of one gate: (dfirst, dsecond) += ∂L/∂(first, second) from dlog_decay = ∂L/∂log|a| and
// dphase = ∂L/∂arg a (ignored without a phase). dsecond may be null (no second component).
// polar, with r = |z|: ∂log|a|/∂r = sigmoid(−r), ∂r/∂(first, second) = (first, second)/r and
// ∂arg/∂(first, second) = (−second, first)/r². At z = 0 (a measure-zero set) both are undefined; we pass zero,
// as torch's abs() does (sgn(0) = 0).
template <class S>
void transition_backward(Transition t, S first, S second, S dlog_decay, S dphase, S& dfirst, S* dsecond) {
  if (t == Transition::kPolar) {
    const S r = std::hypot(first, second);
    if (r == S(0)) return;
    const S dr = dlog_decay * sigmoid_neg(r) / r, da = dphase / (r * r);
    dfirst += dr * first - da * second;
    if (dsecond) *dsecond += dr * second + da * first;
    return;
  }
  dfirst += dlog_decay * sigmoid_neg(first);
  if (dsecond) *dsecond += dphase;
}

}  // namespace llamba::models::gateloop
