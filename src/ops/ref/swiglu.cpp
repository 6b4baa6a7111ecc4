// swiglu reference in double, forward and backward, through the templated kernels of swiglu_impl.h.
// Backward convention: every gradient output is accumulated into (+=); callers zero them; empty = not needed.
#include "ops/swiglu.h"

#include "ops/check_shapes.h"
#include "ops/ref/ref_util.h"
#include "ops/ref/swiglu_impl.h"

namespace llamba::ops::ref {

void swiglu_forward(const core::TensorView& out, const core::TensorView& gate, const core::TensorView& up,
                    const core::TensorView& gate_bias) {
  check_swiglu("ref::swiglu_forward", out, gate, up, gate_bias);
  const int64_t M = out.size(0), F = out.size(1);
  const std::vector<double> g = gather(gate), u = gather(up), b = gather(gate_bias);
  std::vector<double> o(M * F);
  impl::swiglu_forward(o.data(), g.data(), u.data(), b.empty() ? nullptr : b.data(), M, F);
  scatter(out, o);
}

void swiglu_backward(const core::TensorView& dgate, const core::TensorView& dup, const core::TensorView& dgate_bias,
                     const core::TensorView& dout, const core::TensorView& gate, const core::TensorView& up,
                     const core::TensorView& gate_bias) {
  check_swiglu_backward("ref::swiglu_backward", dgate, dup, dgate_bias, dout, gate, up, gate_bias);
  const int64_t M = dout.size(0), F = dout.size(1);
  const std::vector<double> g = gather(gate), u = gather(up), b = gather(gate_bias), d = gather(dout);
  std::vector<double> dg = grad_buffer(dgate), du = grad_buffer(dup), db = grad_buffer(dgate_bias);
  impl::swiglu_backward(ptr_or_null(dg), ptr_or_null(du), ptr_or_null(db), d.data(), g.data(), u.data(),
                        b.empty() ? nullptr : b.data(), M, F);
  accumulate(dgate, dg);
  accumulate(dup, du);
  accumulate(dgate_bias, db);
}

}  // namespace llamba::ops::ref
