// frobenius on the CPU: mse with kMeanRowNorm on the (B·H, T·T) view (see frobenius.h), so each (b, h) matrix
// is one row: summed in double, (b, h) pairs across threads. A tiled version that never materializes M and A
// (docs/distillation.md §"Losses and gradients", stage 1 memory) will replace this when stage 1 runs at T = 2048.
// Backward convention: the gradient is accumulated into (+=); callers zero it.
#include "ops/frobenius.h"

#include "ops/check_shapes.h"
#include "ops/mse.h"

namespace llamba::ops::cpu {

double frobenius_forward(core::ThreadPool& pool, const core::TensorView& m, const core::TensorView& a) {
  const core::Shape s = check_frobenius("frobenius_forward", {}, m, a);
  return mse_forward(pool, m.reshape(s), a.reshape(s), L2Loss::kMeanRowNorm);
}

void frobenius_backward(core::ThreadPool& pool, const core::TensorView& dm, const core::TensorView& m,
                        const core::TensorView& a, float dloss) {
  const core::Shape s = check_frobenius("frobenius_backward", dm, m, a);
  if (!dm.data) return;
  mse_backward(pool, dm.reshape(s), {}, m.reshape(s), a.reshape(s), L2Loss::kMeanRowNorm, dloss);
}

}  // namespace llamba::ops::cpu
