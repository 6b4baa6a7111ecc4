// rmsnorm reference in double, forward and backward, through the templated kernels of rmsnorm_impl.h.
// Backward convention: every gradient output is accumulated into (+=); callers zero them; empty = not needed.
#include "ops/rmsnorm.h"

#include "ops/check_shapes.h"
#include "ops/ref/ref_util.h"
#include "ops/ref/rmsnorm_impl.h"

namespace llamba::ops::ref {

void rmsnorm_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w, double eps) {
  check_rows("ref::rmsnorm_forward", y, x);
  check_float("ref::rmsnorm_forward", x);
  const int64_t M = x.size(0), D = x.size(1);
  LLAMBA_ENSURE(w.numel() == D, "[ref::rmsnorm_forward] weight {} for width {}", w.shape.str(), D);
  const std::vector<double> xd = gather(x), wd = gather(w);
  std::vector<double> yd(M * D);
  impl::rmsnorm_forward(yd.data(), xd.data(), wd.data(), M, D, eps);
  scatter(y, yd);
}

void rmsnorm_backward(const core::TensorView& dx, const core::TensorView& dw, const core::TensorView& dy,
                      const core::TensorView& x, const core::TensorView& w, double eps) {
  check_rmsnorm_backward("ref::rmsnorm_backward", dx, dw, dy, x, w);
  const int64_t M = x.size(0), D = x.size(1);
  const std::vector<double> xd = gather(x), wd = gather(w), dyd = gather(dy);
  std::vector<double> dxd = grad_buffer(dx), dwd = grad_buffer(dw);
  impl::rmsnorm_backward(ptr_or_null(dxd), ptr_or_null(dwd), dyd.data(), xd.data(), wd.data(), M, D, eps);
  accumulate(dx, dxd);
  accumulate(dw, dwd);
}

}  // namespace llamba::ops::ref
