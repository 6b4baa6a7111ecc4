// mse reference in double, forward and backward, through the templated kernels of mse_impl.h.
// Backward convention: gradients are accumulated into (+=); callers zero them; empty = not needed.
#include "ops/mse.h"

#include "ops/check_shapes.h"
#include "ops/ref/mse_impl.h"
#include "ops/ref/ref_util.h"

namespace llamba::ops::ref {

double mse_forward(const core::TensorView& a, const core::TensorView& b, L2Loss kind) {
  check_mse("ref::mse_forward", {}, {}, a, b);
  return impl::mse_forward(gather(a).data(), gather(b).data(), a.size(0), a.size(1), kind == L2Loss::kMeanRowNorm);
}

void mse_backward(const core::TensorView& da, const core::TensorView& db, const core::TensorView& a,
                  const core::TensorView& b, L2Loss kind, double dloss) {
  check_mse("ref::mse_backward", da, db, a, b);
  std::vector<double> ga = grad_buffer(da), gb = grad_buffer(db);
  impl::mse_backward(ptr_or_null(ga), ptr_or_null(gb), gather(a).data(), gather(b).data(), a.size(0), a.size(1),
                     kind == L2Loss::kMeanRowNorm, dloss);
  accumulate(da, ga);
  accumulate(db, gb);
}

}  // namespace llamba::ops::ref
