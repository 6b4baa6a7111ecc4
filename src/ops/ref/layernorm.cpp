// layernorm reference in double, forward and backward, through the templated kernels of layernorm_impl.h.
// Backward convention: every gradient output is accumulated into (+=); callers zero them; empty = not needed.
#include "ops/layernorm.h"

#include "ops/check_shapes.h"
#include "ops/ref/layernorm_impl.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

void layernorm_forward(const core::TensorView& y, const core::TensorView& x, const core::TensorView& w,
                       const core::TensorView& b, double eps) {
  check_layernorm("ref::layernorm_forward", y, x, w, b);
  check_float("ref::layernorm_forward", x);
  const int64_t M = x.size(0), D = x.size(1);
  const std::vector<double> xd = gather(x), wd = gather(w), bd = gather(b);
  std::vector<double> yd(M * D);
  impl::layernorm_forward(yd.data(), xd.data(), wd.data(), bd.empty() ? nullptr : bd.data(), M, D, eps);
  scatter(y, yd);
}

void layernorm_backward(const core::TensorView& dx, const core::TensorView& dw, const core::TensorView& db,
                        const core::TensorView& dy, const core::TensorView& x, const core::TensorView& w,
                        double eps) {
  check_layernorm_backward("ref::layernorm_backward", dx, dw, db, dy, x, w);
  const int64_t M = x.size(0), D = x.size(1);
  const std::vector<double> xd = gather(x), wd = gather(w), dyd = gather(dy);
  std::vector<double> gx = grad_buffer(dx), gw = grad_buffer(dw), gb = grad_buffer(db);
  impl::layernorm_backward(ptr_or_null(gx), ptr_or_null(gw), ptr_or_null(gb), dyd.data(), xd.data(), wd.data(), M, D,
                           eps);
  accumulate(dx, gx);
  accumulate(dw, gw);
  accumulate(db, gb);
}

}  // namespace llamba::ops::ref
