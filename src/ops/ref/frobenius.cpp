// frobenius reference: ref::mse with kMeanRowNorm on the (B·H, T·T) view (see frobenius.h).
// Backward convention: the gradient is accumulated into (+=); callers zero it.
#include "ops/frobenius.h"

#include "ops/check_shapes.h"
#include "ops/mse.h"

namespace llamba::ops::ref {

double frobenius_forward(const core::TensorView& m, const core::TensorView& a) {
  const core::Shape s = check_frobenius("ref::frobenius_forward", {}, m, a);
  return mse_forward(m.reshape(s), a.reshape(s), L2Loss::kMeanRowNorm);
}

void frobenius_backward(const core::TensorView& dm, const core::TensorView& m, const core::TensorView& a,
                        double dloss) {
  const core::Shape s = check_frobenius("ref::frobenius_backward", dm, m, a);
  if (!dm.data) return;
  mse_backward(dm.reshape(s), {}, m.reshape(s), a.reshape(s), L2Loss::kMeanRowNorm, dloss);
}

}  // namespace llamba::ops::ref
