// gelu reference in double, forward and backward, through the templated kernels of gelu_impl.h.
// Backward convention: every gradient output is accumulated into (+=); callers zero them; empty = not needed.
#include "ops/gelu.h"

#include "ops/check_shapes.h"
#include "ops/ref/gelu_impl.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void gelu_forward(const core::TensorView& out, const core::TensorView& x, const core::TensorView& bias) {
  check_gelu("ref::gelu_forward", out, x, bias);
  check_float("ref::gelu_forward", x);
  const int64_t M = out.size(0), F = out.size(1);
  const std::vector<double> xd = gather(x), bd = gather(bias);
  std::vector<double> o(M * F);
  impl::gelu_forward(o.data(), xd.data(), bd.empty() ? nullptr : bd.data(), M, F);
  scatter(out, o);
}

void gelu_backward(const core::TensorView& dx, const core::TensorView& dbias, const core::TensorView& dout,
                   const core::TensorView& x, const core::TensorView& bias) {
  check_gelu_backward("ref::gelu_backward", dx, dbias, dout, x, bias);
  const int64_t M = dout.size(0), F = dout.size(1);
  const std::vector<double> xd = gather(x), bd = gather(bias), dd = gather(dout);
  std::vector<double> gx = grad_buffer(dx), gb = grad_buffer(dbias);
  impl::gelu_backward(ptr_or_null(gx), ptr_or_null(gb), dd.data(), xd.data(), bd.empty() ? nullptr : bd.data(), M, F);
  accumulate(dx, gx);
  accumulate(dbias, gb);
}

}  // namespace llamba::ops::ref
